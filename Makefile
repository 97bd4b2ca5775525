# Fixflow: `make run` starts everything with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVICES := $(notdir $(wildcard services/*))
INFRA := deploy/local/infra.sh
# The workspace install: every package, plus the extras tests and benchmarks need (the service
# images install a service without them: see Dockerfile).
LOCK_VENV := .local/lock-venv
PACKAGES := -e 'shared[testing]' $(foreach s,$(SERVICES),-e 'services/$(s)$(EXTRAS_$(s))')

.PHONY: install infra infra-stop status migrate run stop test test-unit lint bench chaos soak lock screenshots secrets

$(BIN)/.installed: constraints.txt shared/pyproject.toml $(wildcard services/*/pyproject.toml)
	@test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt $(PACKAGES)
	@touch $@

install: $(BIN)/.installed

infra: install
	$(INFRA) start
	$(INFRA) topics

secrets: install
	@# Development secrets of this checkout (.local/secrets.env, generated once; never in git).
	@$(BIN)/python -c "from fixflow_shared.keys import dev_secrets; dev_secrets()"

infra-stop:
	$(INFRA) stop

status:
	@$(INFRA) status
	@scripts/services.sh status

migrate: install infra secrets
	@set -a; . deploy/local/fixflow.env; set +a; \
	for s in $(SERVICES); do echo "[migrate] $$s"; $(BIN)/python -m $$s migrate || exit 1; done

run: install infra migrate
	@scripts/services.sh start $(SERVICES)
	@$(BIN)/python scripts/demo.py
	@scripts/services.sh banner

stop:
	@scripts/services.sh stop

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install lint
	$(INFRA) install
	$(INFRA) start-stores
	scripts/pytest.sh

# Retake the README's screenshots (the browser tests; a plain test run keeps them in .local/screenshots).
screenshots: install
	$(INFRA) install
	$(INFRA) start-stores
	FIXFLOW_UPDATE_SCREENSHOTS=1 scripts/pytest.sh tests/e2e -k "console or portal" -q

bench: install infra
	@for b in $(filter-out bench/chaos.py,$(wildcard bench/*.py)); do $(BIN)/python $$b || exit 1; done

# Faults at scale (docs/reliability.md): three brokers, two replicas per service, one fault at a time
# under load, invariants checked after each. CHAOS_FAULTS=kill,broker,freeze,redis,pg (default all:
# the pg fault restarts the machine's PostgreSQL cluster). SOAK_MINUTES=20: no faults, memory and
# latency over time instead.
CHAOS_FAULTS ?= all
CHAOS_RATE ?= 2
chaos: install
	$(INFRA) install
	$(INFRA) start-stores
	nice -n 5 $(BIN)/python bench/chaos.py --faults $(CHAOS_FAULTS) --rate $(CHAOS_RATE) \
	  $(if $(SOAK_MINUTES),--soak-minutes $(SOAK_MINUTES)) $(CHAOS_ARGS)

soak:
	$(MAKE) chaos SOAK_MINUTES=$(or $(SOAK_MINUTES),20)

lock:
	# Re-pin every transitive dependency of the current pin set (upgrade one by editing its pin first).
	rm -rf $(LOCK_VENV) && $(PY) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install -q -c constraints.txt $(PACKAGES)
	{ echo "# One pin set for the whole repo (pip constraints). Regenerate: make lock"; \
	  $(LOCK_VENV)/bin/pip freeze --exclude-editable | grep -v '^-e' | grep -vi '^fixflow'; } > constraints.txt
