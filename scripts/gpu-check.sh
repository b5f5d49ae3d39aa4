#!/bin/sh
# gpu-check.sh - for sessions lent an NVIDIA GPU (budget: 15 minutes of
# device time; this script needs about one). Measures what the profiler
# assumes about NVML's energy counter and prints one table:
#   - update period of nvmlDeviceGetTotalEnergyConsumption (idle, load) and
#     of nvmlDeviceGetPowerUsage;
#   - monotonicity (backward steps over every read);
#   - the counter against integrated power x time, idle and under a load
#     (a PTX FMA kernel the driver JIT-compiles: no CUDA toolkit needed);
#   - read overhead of each call.
# Then, when the project's CLI is built, `energylens meters` on the same GPU
# (the dlopen path, the validation and a 2 s read through the library).
#
# Needs only a C compiler and the NVIDIA driver (libnvidia-ml.so.1,
# libcuda.so.1); the project's own dependencies are not required.
#
# usage: scripts/gpu-check.sh            (from the repository root)
# env:   GPU_CHECK_DEVICE=N  GPU index (default 0)
#        GPU_CHECK_LOAD_S=S  seconds under load (default 12)
#        NVML_LIB, CUDA_LIB  libraries to load instead (tests: a fake NVML)
#        BUILD               build folder of the CLI (default build)
set -eu
cd "$(dirname "$0")/.."
CC=${CC:-cc}
BIN=${TMPDIR:-/tmp}/energylens-gpu-check.$$
trap 'rm -f "$BIN"' EXIT
# libm stays linked even unused here: a fake NVML (tests) needs sin/cos from it
"$CC" -std=c11 -O2 -Wall -Wextra -o "$BIN" scripts/gpu-check.c -ldl -Wl,--no-as-needed -lm -pthread
echo "== NVML energy counter checks ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -n))"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,driver_version,power.limit,clocks.max.sm --format=csv,noheader || true
fi
timeout 120 "$BIN" || echo "gpu-check: the checks failed (status $?)"
EL=${BUILD:-build}/energylens
if [ -x "$EL" ]; then
    echo
    echo "== energylens meters (the library's view of the same machine)"
    if [ -n "${NVML_LIB:-}" ]; then
        timeout 60 "$EL" meters --kind nvml --library "$NVML_LIB" --validate 3 --read 2 || true
    else
        timeout 60 "$EL" meters --validate 3 --read 2 || true
    fi
else
    echo "(build the CLI with 'make cli' to also run 'energylens meters')"
fi
