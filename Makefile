# Two commands lead the README: `make run` and `make test`. Both create the same
# virtualenv on first use and are idempotent afterwards.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install bench screenshots package clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc 2>/dev/null || echo 2) $(PY) -m pip install -e '.[test,eval,package]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/rlm-desktop

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q --durations=20

bench: $(STAMP)
	$(VENV)/bin/rlm bench core

# The README's pictures, regenerated into docs/screenshots/ (make test saves them to a temp dir).
screenshots: $(STAMP)
	RLM_DESKTOP_SCREENSHOTS=1 QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q tests/gui/test_screenshots.py \
		tests/gui/test_models_dialog.py -k "main_window_after_a_run or download_from_the_loopback_hub"

# The Linux artifacts (tar.gz, AppDir; AppImage where appimagetool exists): see packaging/INSTALL.md.
package: $(STAMP)
	PYTHON=$(PY) packaging/linux/build.sh

clean:
	rm -rf $(VENV) build dist *.egg-info
