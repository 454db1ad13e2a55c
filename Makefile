# The two commands a newcomer needs: `make run` and `make test`. Both are idempotent on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCALES := missionflow/runtime/locales

.PHONY: run test lint clean translations extract update

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP) translations
	$(BIN)/missionflow dev

test: $(STAMP) translations
	bash scripts/ensure-system-packages
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The catalogues (docs/translations.md): `translations` compiles every .po to the .mo the
# pages and emails read; `extract` collects the messages of the templates and code into
# messages.pot; `update` merges it into each language's .po for translators.
translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d $(LOCALES) -D messages

extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --omit-header \
		-o $(LOCALES)/messages.pot .

update: extract
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) -D messages \
		--ignore-obsolete --width 100

clean:
	rm -rf $(VENV) .missionflow
