"""Health checks: the database, the broker, and that beat has run the sweep recently.

Used by /healthz (zongzhi.views) and, as `python -m zongzhi.health [database|broker|beat]`, by the
containers' health checks (docker-compose.yml): exit status 0 when every named check passes.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str
    last_sweep: str | None = None


def check_database() -> Check:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        return Check(True, "ok")
    except Exception as exc:  # noqa: BLE001 - a health check reports every failure
        return Check(False, str(exc)[:200])


def check_broker() -> Check:
    from zongzhi.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return Check(True, app.conf.broker_url.split("://")[0])  # the scheme only: no password
    except Exception as exc:  # noqa: BLE001
        return Check(False, str(exc)[:200])


def check_beat() -> Check:
    """The last sweep (written by the worker when beat's task runs) is at most three periods old
    (and never less than three minutes, so a slow worker start is not an outage)."""
    from cases.selectors import last_sweep_at

    try:
        last = last_sweep_at()
    except Exception as exc:  # noqa: BLE001 - e.g. the table is missing before `migrate`
        return Check(False, str(exc)[:200])
    if last is None:
        return Check(False, "尚未运行")
    allowed = timedelta(seconds=max(3 * settings.SWEEP_INTERVAL_SECONDS, 180))
    age = timezone.now() - last
    return Check(age <= allowed, f"{int(age.total_seconds())} 秒前", last.isoformat())


def report() -> tuple[bool, dict]:
    database = check_database()
    broker = check_broker()
    beat = check_beat() if database.ok else Check(False, "数据库不可用")
    ok = database.ok and broker.ok and beat.ok
    body = {
        "status": "ok" if ok else "fail",
        "database": {"ok": database.ok, "detail": database.detail},
        "broker": {"ok": broker.ok, "detail": broker.detail},
        "beat": asdict(beat),
    }
    return ok, body


CHECKS = {"database": check_database, "broker": check_broker, "beat": check_beat}


def main(argv: list[str]) -> int:
    import django

    django.setup()
    names = argv or list(CHECKS)
    unknown = set(names) - set(CHECKS)
    if unknown:
        print(
            f"unknown check(s): {', '.join(sorted(unknown))}; choose from {', '.join(CHECKS)}",
            file=sys.stderr,
        )
        return 2
    results = {name: CHECKS[name]() for name in names}
    print(json.dumps({n: asdict(c) for n, c in results.items()}, ensure_ascii=False))
    return 0 if all(c.ok for c in results.values()) else 1


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zongzhi.settings.demo")
    sys.exit(main(sys.argv[1:]))
