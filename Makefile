# 协商助手: `make run` starts the bot on the embedded default, `make test` checks everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint browser bench fmt clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/xieshang run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# The console's browser tests drive Debian's chromium through Playwright's Python API (never
# `playwright install`, which downloads a browser build); a CJK font makes the screenshots
# readable. Without root or a registry the tests skip and say why.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
	  || echo "chromium could not be installed: the browser tests will be skipped"; \
	fi

test: lint browser
	$(BIN)/python -m pytest -n auto --dist loadfile

# The local PostgreSQL of CI machines; without it the PostgreSQL rows are left out.
XIESHANG_BENCH_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test

bench: $(STAMP)
	XIESHANG_BENCH_DATABASE_URL=$(XIESHANG_BENCH_DATABASE_URL) $(BIN)/python -m bench

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
