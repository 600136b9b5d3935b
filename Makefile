# Two commands on a fresh machine: `make run` (the bot on embedded defaults) and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
# Two locks with hashes (requirements/README.md): what the bot runs on, and what tests add.
RUNTIME_STAMP := $(VENV)/.runtime-$(shell cat requirements/runtime.txt | sha1sum | cut -c1-12)
DEV_STAMP     := $(VENV)/.dev-$(shell cat requirements/runtime.txt requirements/dev.txt | sha1sum | cut -c1-12)
PIP_LOCKED    := $(PY) -m pip install --quiet --require-hashes
WIDGET_ASSETS := bot/console/widget_assets
WIDGET_CLIENT := $(WIDGET_ASSETS)/node_modules/socket.io-client/dist/socket.io.min.js
AXE_DIR       := tests/browser/a11y
AXE           := $(AXE_DIR)/node_modules/axe-core/axe.min.js
CHROMIUM := /usr/bin/chromium
NGINX    := /usr/sbin/nginx
SUDO     := $$( [ "$$(id -u)" = 0 ] || echo sudo )
export HF_HUB_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install install-runtime run run-prod test test-resilience test-unit lint index train lock bench bench-prod clean

# `make run` needs only the runtime; tests, benchmarks and `make lock` need the development tools.
install-runtime: $(RUNTIME_STAMP) $(WIDGET_CLIENT)
install: install-runtime $(DEV_STAMP) $(AXE)

# The web widget's socket.io client, from the npm registry, pinned by package-lock.json.
$(WIDGET_CLIENT): $(WIDGET_ASSETS)/package-lock.json
	npm ci --prefix $(WIDGET_ASSETS) --no-audit --no-fund --silent
	touch $@

# The browser tests' accessibility checks (axe-core, injected into the pages), pinned by package-lock.json.
$(AXE): $(AXE_DIR)/package-lock.json
	npm ci --prefix $(AXE_DIR) --no-audit --no-fund --silent
	touch $@

# The console's browser tests drive Debian's chromium through Playwright (no browser download).
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

# The production stack's load balancer, from Debian's packages.
$(NGINX):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx

$(RUNTIME_STAMP): requirements/runtime.txt
	@test -x $(PY) || { PYTHON310="$$(scripts/find-python310)" && "$$PYTHON310" -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade "pip>=24,<26"
	$(PIP_LOCKED) -r requirements/runtime.txt
	$(PY) -m pip check
	rm -f $(VENV)/.runtime-* && touch $@

$(DEV_STAMP): $(RUNTIME_STAMP) requirements/dev.txt
	$(PIP_LOCKED) -r requirements/runtime.txt -r requirements/dev.txt
	$(PY) -m pip check
	rm -f $(VENV)/.dev-* && touch $@

run: install-runtime
	$(PY) -m bot run

# Rasa replicas + action servers behind nginx, PostgreSQL, Redis lock store, RabbitMQ broker
# (docs/production.md; DATABASE_URL, BOT_REDIS_URL, BOT_RABBITMQ_URL point at your own).
run-prod: install-runtime $(NGINX)
	$(PY) -m bot run-prod

test: install $(CHROMIUM)
	$(PY) -m ruff check .
	$(PY) -m bot prepare    # the long, cached steps (encoder tuning, Rasa training) outside the tests' timeouts
	$(PY) -m pytest --ignore=tests/resilience --durations=25

# Load, crashes, store outages on the production stack (tests/resilience; restarts the local
# PostgreSQL and RabbitMQ). `.ci/run` runs it after `make test`.
test-resilience: install $(NGINX)
	$(PY) -m bot prepare
	$(PY) -m pytest tests/resilience -rP --durations=10   # -rP: each test prints its figures (statuses under faults)

test-unit: install
	$(PY) -m pytest tests/unit

lint: install
	$(PY) -m ruff check .

index: install
	$(PY) -m faq_index build

train: install
	$(PY) -m bot train

bench: install
	$(PY) -m bot bench latency

bench-prod: install $(NGINX)
	$(PY) -m bot bench production

# Re-pin after changing requirements/runtime.in or dev.in: both locks, with hashes, for this
# Python (3.10) on Linux x86_64, keeping every version that still fits (`--upgrade` to move).
UV_COMPILE := cd requirements && ../$(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.10 \
	--python-platform x86_64-manylinux_2_28 --custom-compile-command "make lock"
lock: $(DEV_STAMP)
	$(UV_COMPILE) runtime.in -o runtime.txt
	$(UV_COMPILE) dev.in -o dev.txt
