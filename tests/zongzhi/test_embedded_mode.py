"""Smoke test of `make run`'s embedded mode: SQLite + kombu's filesystem broker, no PostgreSQL/Redis.

In subprocesses with DATABASE_URL and REDIS_URL unset: migrate a fresh SQLite database, seed a small
county, then run a real worker with an embedded beat that sweeps every second while seed_demo
writes a second town at the same time. The sweeps must reach the worker through the filesystem
broker and land in SQLite, nobody may hit "database is locked", and /healthz must say ok.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.live_celery

COUNT_SWEEPS_AND_HEALTH = """
import json, django
django.setup()
from django.conf import settings
from django.db import connection
from django.test import Client
from cases.models import SweepRun
from centers.models import Region
with connection.cursor() as cur:
    cur.execute("PRAGMA journal_mode")
    journal = cur.fetchone()[0]
health = Client().get("/healthz")
print(json.dumps({
    "vendor": connection.vendor, "journal": journal, "broker": settings.CELERY_BROKER_URL,
    "sweeps": SweepRun.objects.filter(finished_at__isnull=False).count(),
    "towns": Region.objects.filter(kind="town").count(),
    "health": health.status_code, "body": health.json(),
}))
"""


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_QUEUE")}
    env.update(
        DJANGO_SETTINGS_MODULE="zongzhi.settings.demo",
        ZONGZHI_VAR_DIR=str(tmp_path / "var"),
        SWEEP_INTERVAL_SECONDS="1",
        LOG_LEVEL="WARNING",
    )
    return env


def run(env: dict[str, str], *args: str, timeout: int = 300) -> str:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def state(env: dict[str, str]) -> dict:
    return json.loads(run(env, sys.executable, "-c", COUNT_SWEEPS_AND_HEALTH).strip().splitlines()[-1])


def test_worker_beat_and_writers_share_sqlite_and_the_filesystem_broker(embedded_env, tmp_path) -> None:
    env = embedded_env
    run(env, sys.executable, "manage.py", "migrate", "--noinput", "-v0")
    run(env, sys.executable, "manage.py", "seed_demo", "--towns", "1", "--quiet-logins")
    before = state(env)
    assert before["vendor"] == "sqlite" and before["journal"] == "wal"
    assert before["broker"] == "filesystem://"
    assert before["sweeps"] == 0 and before["health"] == 503

    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "zongzhi", "worker", "--beat", "--pool", "solo",
             "--loglevel", "INFO", "--schedule", str(tmp_path / "beat-schedule"), "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        # A heavy writer while beat and the worker write sweeps: WAL + IMMEDIATE must serialize them.
        run(env, sys.executable, "manage.py", "seed_demo", "--towns", "2", "--quiet-logins")
        deadline = time.monotonic() + 60
        after = state(env)
        while after["sweeps"] < 3 and time.monotonic() < deadline:
            time.sleep(1)
            after = state(env)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    output = log.read_text()
    assert after["sweeps"] >= 3, output[-3000:]
    assert after["towns"] == 2
    assert "database is locked" not in output
    assert "Traceback" not in output, output[-3000:]
    assert after["health"] == 200, after["body"]
    assert after["body"]["broker"] == {"ok": True, "detail": "filesystem"}
