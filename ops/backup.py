"""Backup and restore of the database and the uploaded files, as one archive.

An archive (`zongzhi-backup-YYYYmmdd-HHMMSS.tar.gz`) holds:
- `database.dump`: `pg_dump --format=custom` on PostgreSQL, or an SQLite copy made through
  sqlite3's online backup API (consistent while the demo runs);
- `media/`: every uploaded file (attachments, photos, generated documents, exports);
- `manifest.json`: when, from which engine, and the row count of every table, which `restore`
  checks after loading so that a partial restore is reported, never silent.

ID and phone numbers stay encrypted in the dump: restoring needs the same FIELD_ENCRYPTION_KEYS
and FIELD_HASH_KEY (keep them apart from the backups, see deploy/env.example).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connections

FORMAT = 1


class BackupError(Exception):
    pass


def _pg_url(alias: str = "default") -> tuple[str, dict[str, str]]:
    """A libpq connection string and environment (password) for pg_dump / pg_restore / psql."""
    s = connections[alias].settings_dict
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    parts = [f"dbname={s['NAME']}"]
    if s.get("HOST"):
        parts.append(f"host={s['HOST']}")
    if s.get("PORT"):
        parts.append(f"port={s['PORT']}")
    if s.get("USER"):
        parts.append(f"user={s['USER']}")
    return " ".join(parts), env


def table_counts(alias: str = "default") -> dict[str, int]:
    conn = connections[alias]
    tables = sorted(conn.introspection.table_names())
    counts = {}
    with conn.cursor() as cur:
        for table in tables:
            cur.execute(f"SELECT COUNT(*) FROM {conn.ops.quote_name(table)}")  # noqa: S608 - names from introspection
            counts[table] = cur.fetchone()[0]
    return counts


def _run(args: list[str], env: dict[str, str] | None = None) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip()[:2000]}")


def backup(out_dir: Path, *, media_root: Path | None = None, alias: str = "default") -> Path:
    media_root = Path(media_root or settings.MEDIA_ROOT)
    out_dir.mkdir(parents=True, exist_ok=True)
    conn = connections[alias]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    target = out_dir / f"zongzhi-backup-{stamp}.tar.gz"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        dump = tmp / "database.dump"
        if conn.vendor == "postgresql":
            dsn, env = _pg_url(alias)
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}", dsn], env)
        elif conn.vendor == "sqlite":
            conn.ensure_connection()
            with sqlite3.connect(dump) as copy:
                conn.connection.backup(copy)
        else:
            raise BackupError(f"不支持的数据库：{conn.vendor}")
        manifest = {
            "format": FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "vendor": conn.vendor,
            "tables": table_counts(alias),
            "media_files": sum(1 for p in media_root.rglob("*") if p.is_file()) if media_root.exists() else 0,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        partial = target.with_suffix(".part")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(tmp / "manifest.json", arcname="manifest.json")
            tar.add(dump, arcname="database.dump")
            if media_root.exists():
                tar.add(media_root, arcname="media")
        os.replace(partial, target)
    return target


def _is_empty(alias: str) -> bool:
    return not connections[alias].introspection.table_names()


def restore(archive: Path, *, media_root: Path | None = None, alias: str = "default", force: bool = False) -> dict:
    """Load an archive into the (empty, unless `force`) database and media folder; returns the
    manifest after checking every table's row count against it."""
    media_root = Path(media_root or settings.MEDIA_ROOT)
    conn = connections[alias]
    if not force and not _is_empty(alias):
        raise BackupError("目标数据库不是空的；请恢复到一个新建的空数据库，或确认覆盖时加 --force。")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(tmp, filter="data")
        manifest = json.loads((tmp / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise BackupError("备份文件格式不符。")
        if manifest["vendor"] != conn.vendor:
            raise BackupError(f"备份来自 {manifest['vendor']}，不能恢复到 {conn.vendor}。")
        dump = tmp / "database.dump"
        if conn.vendor == "postgresql":
            dsn, env = _pg_url(alias)
            conn.close()
            _run(["pg_restore", "--no-owner", "--no-privileges", "--clean", "--if-exists",
                  "--exit-on-error", f"--dbname={dsn}", str(dump)], env)
        else:
            conn.ensure_connection()
            with sqlite3.connect(dump) as source:
                source.backup(conn.connection)
        if (tmp / "media").exists():
            media_root.mkdir(parents=True, exist_ok=True)
            shutil.copytree(tmp / "media", media_root, dirs_exist_ok=True)
    counts = table_counts(alias)
    missing = {t: (n, counts.get(t)) for t, n in manifest["tables"].items() if counts.get(t) != n}
    if missing:
        raise BackupError(f"恢复后行数不符：{missing}")
    return manifest
