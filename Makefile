# Two commands do everything on a fresh machine (Debian, Python 3.11, pip, apt):
#   make run    set up .venv and run the embedded default benchmark (offline) -> leaderboards/embedded-default/
#   make test   set up .venv and run the test suite (slow tests: make test-slow)
#   make extended  also set up the extended benchmark's data and run it (resumable) -> leaderboards/embedded-extended/
.PHONY: setup run test test-slow bench clean extended

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/facebench run

extended: setup
	bash scripts/setup_extended.sh
	.venv/bin/facebench run configs/embedded/extended.yaml

test: setup
	.venv/bin/python -m pytest

test-slow: setup
	.venv/bin/python -m pytest -m slow

bench: setup
	.venv/bin/python benchmarks/bench_metrics.py

clean:
	rm -rf .facebench
