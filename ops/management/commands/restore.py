from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, restore


class Command(BaseCommand):
    help = "从 backup 生成的压缩包恢复数据库和上传文件，并核对各表行数。"

    def add_arguments(self, parser):
        parser.add_argument("archive", help="backup 生成的 .tar.gz")
        parser.add_argument("--media-root", default=None, help="上传文件目录（默认 MEDIA_ROOT）")
        parser.add_argument("--force", action="store_true", help="目标数据库不为空时仍然覆盖")

    def handle(self, *args, **opts):
        archive = Path(opts["archive"])
        if not archive.is_file():
            raise CommandError(f"找不到备份文件：{archive}")
        try:
            manifest = restore(archive, media_root=opts["media_root"], force=opts["force"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"已恢复 {manifest['created_at']} 的备份：{len(manifest['tables'])} 张表，{rows} 行，"
            f"{manifest['media_files']} 个文件，行数核对无误。"
        )
