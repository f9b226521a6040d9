#!/usr/bin/env bash
# `make run`: the demo county with a real Celery worker, a real beat and the web server side by side.
# Embedded defaults (SQLite in var/, kombu's filesystem broker) unless DATABASE_URL / REDIS_URL are
# set. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

export DJANGO_SETTINGS_MODULE=zongzhi.settings.demo
# Seconds, so the demo's timers visibly fire (production: every minute).
export SWEEP_INTERVAL_SECONDS=${SWEEP_INTERVAL_SECONDS:-10}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
VAR_DIR=${ZONGZHI_VAR_DIR:-var}

ensure_venv ""
PY="$VENV/bin/python"
mkdir -p "$VAR_DIR/log"

say "database: ${DATABASE_URL:-SQLite ($VAR_DIR/zongzhi.sqlite3)}; broker: ${REDIS_URL:-filesystem ($VAR_DIR/broker)}"
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py seed_demo | tee "$VAR_DIR/log/seed_demo.txt"
"$PY" manage.py collectstatic --noinput -v0

pids=()
alive() {
  local pid
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}
stop() {
  trap - INT TERM EXIT
  [ ${#pids[@]} -gt 0 ] || return 0
  say "stopping the web server, the worker and beat"
  # TERM to each main process first: the worker finishes its running tasks and stops its pool.
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 50); do alive || break; sleep 0.2; done
  # Each child leads its own process group (setsid), so leftovers such as runserver's
  # autoreloaded server process go with their group.
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

setsid "$VENV/bin/celery" -A zongzhi worker --loglevel INFO --concurrency 2 --hostname "demo@%h" &
pids+=($!)
setsid "$VENV/bin/celery" -A zongzhi beat --loglevel INFO --pidfile "$VAR_DIR/celerybeat.pid" &
pids+=($!)
setsid "$PY" manage.py runserver "$HOST:$PORT" &
pids+=($!)

sleep 3
cat <<EOF

  综治中心平台（演示）已启动：http://$HOST:$PORT/
  系统管理：http://$HOST:$PORT/admin/   健康检查：http://$HOST:$PORT/healthz
  演示账号见 $VAR_DIR/log/seed_demo.txt（上表），密码均为 ${ZONGZHI_DEMO_PASSWORD:-zongzhi2026}
  定时清扫每 ${SWEEP_INTERVAL_SECONDS} 秒运行一次。按 Ctrl-C 停止全部进程。

EOF
# Whichever child ends first (or Ctrl-C) ends the demo: a web server without its worker is no demo.
set +e
wait -n "${pids[@]}"
status=$?
say "a process exited with status $status"
exit "$status"
