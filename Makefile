# Set-up and everyday commands. `make run` and `make test` do the whole set-up
# on a fresh machine with only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run serve test lint format migrate clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev,project]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m demo

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

# The property tests (hypothesis, schemathesis) with fresh randomness, round
# after round for FUZZ_SECONDS; `make test` runs them derandomized. Each round
# prints its seed: `make fuzz FUZZ_SEED=<seed>` runs that round again.
FUZZ_SECONDS ?= 600
FUZZ_TESTS ?= tests/security/test_webhook_fuzz.py tests/security/test_signed_fuzz.py \
	tests/security/test_api_fuzz.py

.PHONY: fuzz
fuzz: $(STAMP)
	@end=$$(( $$(date +%s) + $(FUZZ_SECONDS) )); round=0; \
	while [ $$round -eq 0 ] || { [ -z "$(FUZZ_SEED)" ] && [ $$(date +%s) -lt $$end ]; }; do \
		round=$$((round + 1)); \
		seed=$${FUZZ_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
		echo "--- fuzz round $$round, seed $$seed"; \
		$(BIN)/pytest -q -p no:cacheprovider --hypothesis-profile=fuzz \
			--hypothesis-seed=$$seed $(FUZZ_TESTS) $(PYTEST_ARGS) \
		|| { echo "fuzz: failed with seed $$seed; again: make fuzz FUZZ_SEED=$$seed"; \
			exit 1; }; \
	done; \
	echo "fuzz: $$round round(s), no failure"
