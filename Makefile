# Two commands do everything on a fresh machine (Debian, Python 3.11, pip, apt):
#   make run    set up .venv and run the embedded default benchmark (offline) -> leaderboards/embedded-default/
#   make test   set up .venv and run the test suite (slow tests: make test-slow)
.PHONY: setup run test test-slow bench clean

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/facebench run

test: setup
	.venv/bin/python -m pytest

test-slow: setup
	.venv/bin/python -m pytest -m slow

bench: setup
	.venv/bin/python benchmarks/bench_metrics.py

clean:
	rm -rf .facebench
