#!/usr/bin/env bash
# Incremental developer build without pip: configures build/dev once, builds with ninja and
# links the module into python/ember so `PYTHONPATH=python pytest` uses it.
#   tools/dev_build.sh            CPU-only (EMBER_CUDA=OFF), fast
#   EMBER_CUDA=AUTO tools/dev_build.sh   also compile the CUDA sources when nvcc is found
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build/dev-${EMBER_CUDA:-OFF}
launcher=()
if command -v ccache >/dev/null; then
  # Paths relative to the checkout's parent: worktrees beside it share the cache.
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$(cd .. && pwd)}"
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEMBER_CUDA="${EMBER_CUDA:-OFF}" \
    "${launcher[@]}" \
    -DSKBUILD_PROJECT_VERSION=0.1.0 \
    -Dpybind11_DIR="$(python -c 'import pybind11; print(pybind11.get_cmake_dir())')" >/dev/null
fi
ninja -C "$dir" -j "${JOBS:-2}"
so=$(ls "$dir"/_C*.so)
ln -sf "$(realpath "$so")" "python/ember/$(basename "$so")"
