from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, backup


class Command(BaseCommand):
    help = "备份数据库和上传文件为一个压缩包（含各表行数清单）。"

    def add_arguments(self, parser):
        parser.add_argument("--out", default="backups", help="压缩包存放的目录（默认 ./backups）")
        parser.add_argument("--media-root", default=None, help="上传文件目录（默认 MEDIA_ROOT）")

    def handle(self, *args, **opts):
        try:
            path = backup(Path(opts["out"]), media_root=opts["media_root"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(path))
