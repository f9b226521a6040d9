#!/usr/bin/env bash
# `make test`: the whole suite, every marker (browser, live_celery, slow), against real PostgreSQL
# and Redis. On a fresh machine it installs what is missing and starts the services first.
# Extra arguments go to pytest: `make test ARGS=tests/centers`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2
    return 1
  fi
}

# --- system packages, only when missing -------------------------------------------------------
missing=()
command -v chromium >/dev/null || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
if [ -z "${DATABASE_URL:-}" ] && ! command -v pg_ctlcluster >/dev/null; then missing+=(postgresql); fi
if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null; then missing+=(redis-server); fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- PostgreSQL and Redis, started only when not answering -----------------------------------
if [ -z "${DATABASE_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    version=$(ls /etc/postgresql | sort -V | tail -n1)
    say "starting PostgreSQL $version"
    # "Cluster is already running" (exit 2) when it is still coming up: not an error, wait for it.
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 120); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
    pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1; }
  fi
  if ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; then
    # A fresh Debian cluster asks for a password over TCP: give the postgres role one (through the
    # local socket, as the postgres system user) and use it.
    say "setting a password for the postgres role (TCP login)"
    as_root runuser -u postgres -- psql -qc "ALTER ROLE postgres PASSWORD 'postgres'"
    export DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/zongzhi
  fi
fi
if [ -z "${REDIS_URL:-}" ] && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 40); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.25; done
fi

# --- the suite ----------------------------------------------------------------------------------
ensure_venv dev
export DJANGO_ALLOW_ASYNC_UNSAFE=true
say "running the test suite (all markers)"
started=$(date +%s)
set +e
"$VENV/bin/python" -m pytest --create-db "$@"
status=$?
set -e
say "pytest finished in $(($(date +%s) - started)) s with status $status"
if [ $status = 5 ]; then
  echo "pytest collected no tests: that is a failure, not a pass" >&2
fi
exit $status
