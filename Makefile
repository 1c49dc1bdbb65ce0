# The one entry point for people and CI. `make sample` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WEEK ?= 2026-W48

.PHONY: sample test lint pytest golden system-deps audit bench clean

## Set up .venv and build the sample week into issues/$(WEEK)/
sample: $(VENV)/.installed
	$(BIN)/newsletter build --week $(WEEK)

## Install everything the tests need (Debian packages when root), then lint and run every test
test: system-deps $(VENV)/.installed-test lint pytest

pytest: $(VENV)/.installed-test
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check newsletter tests benchmarks
	$(BIN)/mypy

## Regenerate tests/golden/ after an intended change to the email; review the diff before committing
golden: $(VENV)/.installed-test
	NEWSLETTER_REGEN_GOLDEN=1 $(BIN)/python -m pytest tests/test_golden.py -q

## The speed and memory figures (benchmarks/README.md): build, archive, preview; exit 1 if a target is missed.
## With valgrind installed, the build is also counted in instructions (repeatable on a busy machine).
bench: $(VENV)/.installed
	@status=0; counts=$$(command -v valgrind >/dev/null && echo --instructions); \
	$(BIN)/python benchmarks/build_bench.py $$counts || status=1; \
	for bench in archive_bench preview_bench; do \
	  $(BIN)/python benchmarks/$$bench.py || status=1; \
	done; exit $$status

## Chromium (browser tests) and SpamAssassin (spam score test) from Debian, when missing
system-deps:
	@if ! command -v chromium >/dev/null || ! command -v spamassassin >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium spamassassin >/dev/null; \
	  else \
	    echo "Chromium or SpamAssassin is missing: sudo apt-get install chromium spamassassin (their tests skip until then)"; \
	  fi; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) tests/artifacts .pytest_cache .mypy_cache .ruff_cache
