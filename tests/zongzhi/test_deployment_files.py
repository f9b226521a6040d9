"""docker-compose.yml and the Dockerfile, read (Docker does not run in CI): the promises they keep."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_five_services_each_with_a_health_check() -> None:
    services = compose()["services"]
    assert set(services) == {"web", "worker", "beat", "db", "redis"}
    for name, service in services.items():
        assert service["healthcheck"]["test"], name
    assert services["db"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_exactly_one_beat() -> None:
    services = compose()["services"]
    beats = [n for n, s in services.items() if " beat" in str(s.get("command", ""))]
    assert beats == ["beat"]
    assert services["beat"]["deploy"]["replicas"] == 1


def test_app_services_run_production_settings_with_secrets_from_the_environment() -> None:
    services = compose()["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "zongzhi.settings.production", name
        for secret in ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "FIELD_HASH_KEY"):
            # Required (`:?`): compose refuses to start without it; no default secret anywhere.
            assert re.fullmatch(rf"\$\{{{secret}:\?.+\}}", env[secret]), (name, secret)
        assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"


def test_named_volumes_for_the_database_and_the_uploads() -> None:
    data = compose()
    assert set(data["volumes"]) == {"pgdata", "uploads"}
    assert "pgdata:/var/lib/postgresql/data" in data["services"]["db"]["volumes"]
    for name in ("web", "worker"):
        assert "uploads:/data/media" in data["services"][name]["volumes"]
        assert data["services"][name]["environment"]["MEDIA_ROOT"] == "/data/media"


def test_the_image_runs_as_an_unprivileged_user_and_serves_collected_static_files() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "collectstatic" in dockerfile
    assert "zongzhi.settings.production" in dockerfile
    assert "gunicorn" in dockerfile
