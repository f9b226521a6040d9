"""Backup and restore (issue 10): a backup restored into an empty database finds everything —
rows, encrypted numbers (still decryptable with the same keys) and uploaded files."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from cases import services
from cases.models import Case
from ops.backup import BackupError, restore, table_counts

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _admin_dsn(db: str) -> str:
    s = connection.settings_dict
    return f"dbname={db} host={s['HOST'] or '127.0.0.1'} port={s['PORT'] or 5432} user={s['USER'] or 'postgres'}"


def _url(db: str) -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{db}"


@pytest.fixture
def empty_db():
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    admin = psycopg2.connect(_admin_dsn("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_a_backup_restored_into_an_empty_database_finds_everything(cw, make_case, tmp_path, settings, empty_db):
    settings.MEDIA_ROOT = tmp_path / "media"
    person = services.person_upsert(name="张三", id_number="430124198506124565", phone="13800138000")
    case = make_case(parties=[(person, "applicant")], title="备份恢复测试")
    attachment = services.attachment_add(
        case=case, by=cw.village_a_worker, file=SimpleUploadedFile("现场照片.png", PNG, content_type="image/png")
    )
    before = table_counts()

    out = tmp_path / "backups"
    call_command("backup", out=str(out), media_root=str(settings.MEDIA_ROOT))
    (archive,) = out.glob("zongzhi-backup-*.tar.gz")

    # Restore in a separate process, as an operator would, into a new empty database and media folder.
    restored_media = tmp_path / "restored-media"
    env = dict(os.environ, DATABASE_URL=_url(empty_db), MEDIA_ROOT=str(restored_media),
               DJANGO_SETTINGS_MODULE="zongzhi.settings.test", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "manage.py", "restore", str(archive)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "行数核对无误" in done.stdout

    # Every table, every row.
    with psycopg2.connect(_admin_dsn(empty_db)) as conn, conn.cursor() as cur:
        for table, n in before.items():
            cur.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - table names from introspection
            assert cur.fetchone()[0] == n, table
        cur.execute("SELECT tracking_no, title FROM cases_case WHERE id = %s", [case.pk])
        assert cur.fetchone() == (case.tracking_no, "备份恢复测试")
        cur.execute("SELECT id_number_enc FROM cases_person WHERE id = %s", [person.pk])
        cipher = cur.fetchone()[0]
    assert "430124198506124565" not in cipher  # the dump holds ciphertext only
    # The restored database decrypts with the same keys, through the application.
    probe = (
        "from cases.models import Person, Attachment;"
        f"p = Person.objects.get(pk={person.pk}); a = Attachment.objects.get(pk={attachment.pk});"
        "print(p.id_number, p.phone, a.file.read() == open(a.file.path, 'rb').read(), a.name)"
    )
    shown = subprocess.run([sys.executable, "manage.py", "shell", "-c", probe], cwd=ROOT, env=env,
                           capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().splitlines()[-1].split() == ["430124198506124565", "13800138000", "True", "现场照片.png"]
    assert (restored_media / attachment.file.name).read_bytes() == PNG


def test_restore_refuses_a_database_that_is_not_empty(cw, make_case, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    make_case()
    call_command("backup", out=str(tmp_path), media_root=str(settings.MEDIA_ROOT))
    (archive,) = tmp_path.glob("zongzhi-backup-*.tar.gz")
    with pytest.raises(BackupError, match="不是空的"):
        restore(archive, media_root=tmp_path / "other")
    assert Case.objects.count() == 1
