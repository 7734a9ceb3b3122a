# RNGT LMS: `make run` to try it, `make test` to check it. See README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
# Where links point (certificates' QR codes, calendar feeds, invitations): the address served,
# unless given, e.g. `make run HOST=0.0.0.0 LMS_PUBLIC_URL=http://lms.lan:5000`.
LMS_PUBLIC_URL ?= http://$(HOST):$(PORT)

.PHONY: run dev test setup system-deps browser-deps translations extract-messages lint clean

run dev: export LMS_PUBLIC_URL := $(LMS_PUBLIC_URL)

## run: set everything up (venv, packages, database, demo data) and serve on http://127.0.0.1:5000
run: setup
	@echo ""
	@echo "  RNGT LMS is starting on http://$(HOST):$(PORT) (links and certificates point at $(LMS_PUBLIC_URL))"
	@echo "  Demo logins (password: demo-password):"
	@echo "    admin@example.org        administrator"
	@echo "    coordinator@example.org  coordinator (regional)"
	@echo "    coordinator.mk@example.org  coordinator for North Macedonia"
	@echo "    trainer@example.org      trainer"
	@echo "    coach@example.org        coach"
	@echo "    commander@example.org    commander (trainee)"
	@echo "    cadet@example.org        cadet (trainee)"
	@echo "  Certificates are printed by a background worker, started alongside."
	@echo ""
	@$(FLASK) lms worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn -c python:lms.gunicorn_conf --workers $(WORKERS) --bind $(HOST):$(PORT) app:app

## dev: the Flask development server with reloading (for working on the code)
dev: setup
	@$(FLASK) lms worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --debug --host $(HOST) --port $(PORT)

## test: install the test tools and run the whole suite (LMS_TEST_DATABASE_URL for PostgreSQL)
test: $(VENV)/.dev-installed browser-deps translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed system-deps translations
	$(FLASK) lms init
	$(FLASK) lms demo

$(VENV)/.installed: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

system-deps:
	@bash .ci/system-deps

# The test suite also drives Debian's Chromium.
browser-deps:
	@bash .ci/system-deps --browser

## translations: compile the message catalogues (translations/*/LC_MESSAGES/messages.po)
# Each catalogue is compiled only when it changed, so that test runs side by side (CI)
# never rewrite a catalogue another run is reading.
CATALOGUES := $(wildcard translations/*/LC_MESSAGES/messages.po)
translations: $(CATALOGUES:.po=.mo)

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel -q compile -i $< -o $@.tmp -l $* && mv $@.tmp $@

## extract-messages: refresh translations/messages.pot and merge it into every catalogue
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg --ignore-dirs=".*" -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -k lazy_ngettext:1,2 --add-comments=Translators: --project="RNGT LMS" -o translations/messages.pot .
	@if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel -q update --no-fuzzy-matching -i translations/messages.pot -d translations; fi

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
