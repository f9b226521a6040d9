# Shared by scripts/run.sh and scripts/test.sh: find Python 3.11 and keep the virtualenv in step
# with pyproject.toml.
# shellcheck shell=bash

VENV=${VENV:-.venv}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

python_for_venv() {
  local candidate
  for candidate in "${PYTHON:-}" python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return
    fi
  done
  echo "Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

# ensure_venv EXTRA: create $VENV if missing and `pip install -e .[EXTRA]` when pyproject.toml
# changed since the last install (the stamp keeps repeated runs fast).
ensure_venv() {
  local extra=$1 spec=. stamp want
  [ -n "$extra" ] && spec=".[$extra]"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtualenv $VENV"
    "$(python_for_venv)" -m venv "$VENV"
  fi
  stamp="$VENV/.zongzhi-installed"
  want="$spec $(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
    say "installing $spec into $VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e "$spec"
    echo "$want" >"$stamp"
    # A dev install also satisfies a plain one.
    if [ -n "$extra" ]; then echo ". ${want#* }" >>"$stamp"; fi
  fi
}
