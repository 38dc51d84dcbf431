#!/usr/bin/env bash
# Build mmcv 2.1.0 (with its compiled ops, which mmsegmentation imports) from source into the
# active virtual environment. pip caches the built wheel, so a second set-up reuses it.
#
# torch 2.14's headers require C++20 but mmcv's setup.py hard-codes -std=c++17, so the compiler
# is wrapped to rewrite that flag. On a machine with CUDA (nvcc on PATH and a GPU build of torch)
# export FORCE_CUDA=1 before running this script to get the CUDA ops.
set -euo pipefail
PY="${PYTHON:-python}"
if "$PY" -c "import mmcv, mmcv.ops" 2>/dev/null; then
  exit 0
fi
wrapdir="$(mktemp -d)"
trap 'rm -rf "$wrapdir"' EXIT
for cc in g++ c++ gcc cc; do
  real="$(command -v "$cc")"
  cat > "$wrapdir/$cc" <<WRAP
#!/usr/bin/env bash
args=()
for a in "\$@"; do
  if [ "\$a" = "-std=c++17" ]; then args+=("-std=c++20"); else args+=("\$a"); fi
done
exec "$real" "\${args[@]}"
WRAP
  chmod +x "$wrapdir/$cc"
done
export PATH="$wrapdir:$PATH" CXX="$wrapdir/g++" CC="$wrapdir/gcc"
export MAX_JOBS="${MAX_JOBS:-$(nproc)}" MMCV_WITH_OPS=1
"$PY" -m pip install --no-build-isolation -c constraints.txt "mmcv==2.1.0"
"$PY" -c "import mmcv.ops" >/dev/null
