"""Shared plumbing for benchmarks: a template database built once by seed_volume, cloned per run.

`CREATE DATABASE run TEMPLATE bench_1m` copies a million matters in seconds, so every scenario
starts from the same data. Benchmarks run by hand (never inside `make test`); each has a small
smoke run in the suite so it cannot rot.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", f"{PG}/{db}", "-qAtc", sql], check=True)


def db_exists(name: str) -> bool:
    out = subprocess.run(
        ["psql", f"{PG}/postgres", "-qAtc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],  # noqa: S608 - a database name the script chose
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    return out == "1"


def manage(db: str, *args: str) -> None:
    env = dict(os.environ, DATABASE_URL=f"{PG}/{db}", DJANGO_SETTINGS_MODULE="zongzhi.settings.test")
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, env=env, cwd=ROOT)


def ensure_template(name: str, *, matters: int, open_count: int, rebuild: bool = False) -> None:
    """The template database: migrated, the demo county, `matters` matters over five years."""
    if db_exists(name) and not rebuild:
        return
    psql(f'DROP DATABASE IF EXISTS "{name}"')
    psql(f'CREATE DATABASE "{name}"')
    started = time.monotonic()
    manage(name, "migrate", "-v0")
    manage(name, "seed_demo")
    manage(name, "seed_volume", f"--matters={matters}", f"--open={open_count}", "--due=0")
    print(f"template {name}: built in {time.monotonic() - started:.0f} s", flush=True)


def clone(template: str, name: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{name}"')
    psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    # The template may predate newer migrations (a new app's tables): bring the clone up to date.
    manage(name, "migrate", "-v0")


def drop(name: str) -> None:
    psql(f'DROP DATABASE IF EXISTS "{name}"')


def run_child(script: Path, db: str, *args: str) -> dict:
    """Run `script --child …` against database `db`; it prints one JSON line last."""
    env = dict(os.environ, DATABASE_URL=f"{PG}/{db}", DJANGO_SETTINGS_MODULE="zongzhi.settings.test")
    out = subprocess.run(
        [sys.executable, str(script), "--child", *args], check=True, env=env, cwd=ROOT, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
