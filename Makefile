# `make test` and `make demo` work on a fresh Debian machine with Python 3.11: they create
# .venv, install the package with the extras they need, then run.
# pipefail: a failing pip fails the target even though its output is filtered.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Temporary files (pytest, kernels, the sandbox's data) stay inside the checkout.
export TMPDIR := $(CURDIR)/.tmp

.PHONY: test demo record bench pictures install clean

$(STAMP): pyproject.toml
	@mkdir -p $(TMPDIR)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | { grep -v '^WARNING: Location' || true; }
	$(PY) -m pip install -q -e '.[test,sandbox,demo]' 2>&1 | { grep -v '^WARNING: Location' || true; }
	$(PY) -c "import oai_magics, requests_toolbelt, starlette, uvicorn, pytest"
	touch $(STAMP)

install: $(STAMP)

# The browser tests drive Debian's Chromium, never a downloaded browser; CI runs as root.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	if [ "$$(id -u)" = 0 ]; then export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	else echo "$(CHROMIUM) is missing: run 'apt-get install -y chromium' as root, or the browser tests are skipped"; fi

test: $(STAMP) $(CHROMIUM)
	$(PY) -m pytest -q -p no:cacheprovider --basetemp "$(TMPDIR)/pytest"

# Every notebook against the sandbox (or the OpenAI API when OPENAI_API_KEY is set and BACKEND is
# not sandbox); executed copies and HTML pages in build/demo/.
BACKEND ?= auto
demo: $(STAMP)
	$(PY) -m oai_magics.demo notebooks --out build/demo --backend $(BACKEND)

# A notebook's recording made anew (the one its first cell names with %oai replay): against the
# OpenAI API when OPENAI_API_KEY is set, else the sandbox. `make record NOTEBOOK=notebooks/x.ipynb`.
NOTEBOOK ?= notebooks/01-quickstart.ipynb
record: $(STAMP)
	$(PY) -m oai_magics.demo $(NOTEBOOK) --record

# The README's pictures (docs/images/), one cell of each demo notebook's HTML page, in headless Chromium.
pictures: $(STAMP)
	$(PY) docs/make_pictures.py

# Measurements side by side with the official SDK and the floor; writes benchmarks/RESULTS.md.
bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) $(TMPDIR) *.egg-info
