"""A real Celery worker and beat for `live_celery` tests.

They run as subprocesses against the test database (the test must be transactional so they see
committed rows), on Redis, on a queue of their own so no stray worker steals the tasks, with a
sweep every second. Import the fixture into a test module: `from tests.livecelery import live_celery`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class LiveCelery:
    env: dict[str, str]
    tmp: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str) -> subprocess.Popen:
        if name == "worker":
            args = [
                "worker",
                "-Q",
                self.env["CELERY_QUEUE"],
                "--pool=solo",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "INFO",
                "-n",
                f"live-{uuid.uuid4().hex[:6]}@%h",
            ]
        else:
            args = ["beat", "-l", "INFO", "-s", str(self.tmp / "beat-schedule"), "--pidfile", ""]
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "zongzhi", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=20)

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for name in list(self.procs):
            proc = self.procs[name]
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            self.procs.pop(name)


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.5, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def live_env(tmp: Path, *, redis_url: str | None = None, sweep_seconds: int = 1) -> dict[str, str]:
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="zongzhi.settings.test",
        DATABASE_URL=url,
        REDIS_URL=redis_url or settings.REDIS_URL,
        CELERY_QUEUE=f"live-{uuid.uuid4().hex[:8]}",
        SWEEP_INTERVAL_SECONDS=str(sweep_seconds),
        ZONGZHI_VAR_DIR=str(tmp),
        PYTHONPATH=str(ROOT),
    )
    return env


@pytest.fixture
def live_celery(transactional_db, tmp_path) -> Iterator[LiveCelery]:
    """A worker and a beat; stopped (and their logs shown on failure) after the test."""
    live = LiveCelery(env=live_env(tmp_path), tmp=tmp_path)
    try:
        yield live
    finally:
        live.stop()
