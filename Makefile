# peercoach: `make serve` to try it, `make test` to prove it. Needs only python3 (3.11+), pip, make.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
# The PostgreSQL run of the test suite uses this server; `make test TEST_POSTGRES_URL=` skips it.
TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
PYTEST_WORKERS ?= 2

.PHONY: install serve test test-sqlite test-postgres lint fmt openapi migration lock bench bench-lists bench-imports bench-audit bench-drills fuzz clean

$(BIN)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

install: $(BIN)/.installed

serve: install
	ENVIRONMENT=development $(BIN)/peercoach migrate
	ENVIRONMENT=development $(BIN)/peercoach demo-data
	ENVIRONMENT=development $(BIN)/peercoach serve --host $(HOST) --port $(PORT)

test: lint
	TEST_DATABASE=sqlite $(BIN)/pytest -n $(PYTEST_WORKERS) -q
	@if [ -n "$(TEST_POSTGRES_URL)" ]; then \
	  echo "== PostgreSQL run ($(TEST_POSTGRES_URL))"; \
	  TEST_DATABASE=postgres TEST_POSTGRES_URL="$(TEST_POSTGRES_URL)" $(BIN)/pytest -n $(PYTEST_WORKERS) -q; \
	else echo "== PostgreSQL run skipped: TEST_POSTGRES_URL is empty"; fi

test-sqlite: install
	TEST_DATABASE=sqlite $(BIN)/pytest -n $(PYTEST_WORKERS) -q

test-postgres: install
	TEST_DATABASE=postgres TEST_POSTGRES_URL="$(TEST_POSTGRES_URL)" $(BIN)/pytest -n $(PYTEST_WORKERS) -q

lint: install
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/ruff format --check app tests bench migrations
	$(BIN)/mypy app bench

fmt: install
	$(BIN)/ruff format app tests bench migrations
	$(BIN)/ruff check --fix app tests bench migrations

openapi: install
	$(BIN)/peercoach openapi

# A new migration from the models' changes, numbered after the last one: make migration m="what changed"
migration: install
	@test -n "$(m)" || { echo 'usage: make migration m="what changed"'; exit 2; }
	@db=$$(mktemp -d)/gen.db; \
	next=$$($(BIN)/python -c "import pathlib, re; print('%04d' % (1 + max(int(m[1]) for p in pathlib.Path('migrations/versions').glob('*.py') if (m := re.match(r'\d{4}_\d{2}_\d{2}_(\d{4})_', p.name)))))"); \
	DATABASE_URL=sqlite:///$$db $(BIN)/alembic upgrade head >/dev/null && \
	DATABASE_URL=sqlite:///$$db $(BIN)/alembic revision --autogenerate --rev-id $$next -m "$(m)"

lock: install
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 -o requirements-runtime.lock

# Every GET at district scale against the bare floor (bench/README.md); long: ~15 min per engine.
bench: install
	$(BIN)/python -m bench.district

bench-lists: install
	$(BIN)/python -m bench.lists

bench-imports: install
	$(BIN)/python -m bench.imports

# What the audit trail costs the requests it records (bench/README.md).
bench-audit: install
	$(BIN)/python -m bench.audit_cost

bench-drills: install
	$(BIN)/python -m bench.drills

# A long contract fuzz of every operation (the suite runs a quick seeded pass of the same test).
FUZZ_EXAMPLES ?= 500
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) TEST_DATABASE=sqlite $(BIN)/pytest -q -m fuzz

clean:
	rm -rf $(VENV) peercoach.db peercoach.db-wal peercoach.db-shm .pytest_cache
