"""`manage.py check --deploy` under the production settings, as the server would start them."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def production_env(**overrides: str) -> dict[str, str]:
    # Only what a production host sets: nothing from the developer's or CI's Django variables.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FIELD_", "ZONGZHI_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="zongzhi.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        FIELD_HASH_KEY=secrets.token_urlsafe(32),
        DJANGO_ALLOWED_HOSTS="zongzhi.example.cn",
    )
    env.update(overrides)
    return {k: v for k, v in env.items() if v}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_secrets_from_the_environment() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_its_secrets() -> None:
    for missing in ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "FIELD_HASH_KEY"):
        result = manage("check", env=production_env(**{missing: ""}))
        assert result.returncode != 0
        assert missing in result.stderr
