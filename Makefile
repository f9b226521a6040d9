# The two commands of the README. The work is in scripts/ (bash), so it can be read and run alone.

VENV ?= .venv
export VENV
# Extra pytest arguments: make test ARGS="tests/centers -x"
ARGS ?=

.PHONY: run test lint

run:
	@scripts/run.sh

test:
	@scripts/test.sh $(ARGS)

lint:
	$(VENV)/bin/ruff check .
