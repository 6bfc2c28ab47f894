# The course's commands. Each target does its own set-up: a fresh clone needs
# only Python 3.10+ and make.  `make lab` to learn, `make test` to check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Extra options for JupyterLab, e.g. `make lab LAB_ARGS="--no-browser --port 8899"`.
# Jupyter refuses to run as root (as in many containers) unless told it may.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

.PHONY: help setup lab test test-slow notebooks exercises progress lint lock clean test-floor site serve test-site

help:
	@echo "make lab        open the course in JupyterLab (sets up .venv first)"
	@echo "make test       run every test and execute every notebook (sets up .venv first)"
	@echo "make test-slow  notebooks under other CPU kernels, every cell run twice, the grading budget"
	@echo "make test-floor the same tests at the lowest versions requirements.txt allows (own env)"
	@echo "make notebooks  re-execute lessons and solutions in place, then regenerate exercises"
	@echo "make exercises  regenerate exercises/ from solutions/"
	@echo "make progress   run your exercises/ notebooks and show which exercises are done"
	@echo "make lint       ruff over helpers, tools, tests and notebooks"
	@echo "make lock       re-resolve constraints.txt from requirements.txt (deliberately)"
	@echo "make site       build the course website from the committed notebooks into build/site"
	@echo "make serve      build the website and serve it at http://127.0.0.1:$(PORT)/"
	@echo "make test-site  build the website and test every page in headless Chromium"
	@echo "make clean      remove the virtual environments, the built website and the caches"

# A virtual environment with the exact versions of constraints.txt and the
# helpers package installed in editable mode (so `import helpers` works anywhere).
$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

lab: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[lab]"
	$(BIN)/jupyter lab $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest

# The long notebook tests: every lesson and solutions notebook under other CPU kernels
# (portability) and with every cell run twice (re-runs), and the grading budget.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

# The lowest versions requirements.txt (and the test extras) allow, resolved by
# uv from PyPI into their own environment, rebuilt each time (uv caches the
# downloads); then the tests and the lessons and solutions run there. Lint is
# left out: ruff's verdicts belong to the pinned ruff. From PyPI, torch is the
# CUDA build (about 3 GB with its nvidia-* wheels, the first time); add
# FLOOR_ARGS="..." to pass uv other options, e.g. an index with CPU-only wheels.
FLOOR_VENV := .floor-venv
FLOOR_ARGS ?=
test-floor:
	rm -rf $(FLOOR_VENV)
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv
	$(FLOOR_VENV)/bin/uv pip install --quiet --python $(FLOOR_VENV)/bin/python \
	    --resolution lowest-direct $(FLOOR_ARGS) -r requirements.txt -e ".[test]"
	$(FLOOR_VENV)/bin/uv pip freeze --python $(FLOOR_VENV)/bin/python \
	    | grep -i -E '^(torch|numpy|pandas|matplotlib|seaborn|scikit-learn|torchmetrics|tqdm|ipywidgets|pytest|nbval|nbclient|ipykernel)=='
	$(FLOOR_VENV)/bin/python -m pytest --ignore=tests/test_lint.py

notebooks: $(STAMP)
	$(BIN)/python tools/run_notebooks.py
	$(BIN)/python tools/make_exercises.py

exercises: $(STAMP)
	$(BIN)/python tools/make_exercises.py

# Runs each saved notebook in exercises/ in a fresh kernel and grades every exercise
# (python -m helpers.progress --help: other paths, a CSV, the time limit).
progress: $(STAMP)
	$(BIN)/python -m helpers.progress exercises

lint: $(STAMP)
	$(BIN)/ruff check helpers tools tests notebooks solutions exercises

# Re-resolve the lock in a scratch environment. torch stays pinned to the CPU
# build that CI installs; review the diff before committing it.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet torch==2.13.0 -e ".[test,lab,site]"
	(echo "# Exact versions for CI and make (regenerate with: make lock)."; \
	 .lock-venv/bin/python -m pip freeze --exclude-editable | sed 's/+cpu$$//') > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) $(FLOOR_VENV) build .pytest_cache .ruff_cache

# The course website: built from the committed notebooks (never executed), offline.
# See website/conf.py. `make serve PORT=9000` for another port.
PORT ?= 8000
SITE_STAMP := $(VENV)/.site-installed

$(SITE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[site]"
	touch $(SITE_STAMP)

site: $(SITE_STAMP)
	$(BIN)/python tools/build_site.py

serve: site
	@echo "The course website: http://127.0.0.1:$(PORT)/  (Ctrl+C stops it)"
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory build/site

# Browser tests: Debian's chromium (installed with apt-get when missing; needs root),
# driven by Playwright. Screenshots for review land in build/site-screenshots/.
test-site: site
	@test -x /usr/bin/chromium || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	$(BIN)/python -m pytest -o addopts="" -p no:cacheprovider website/test_site.py
