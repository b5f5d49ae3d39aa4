#!/bin/sh
# gpu-check.sh - for sessions lent an NVIDIA GPU (about 90 s in all; the
# budget is 15 minutes of device time). Measures what the profiler assumes
# about NVML and prints one table (scripts/gpu-check.c):
#   - update period of nvmlDeviceGetTotalEnergyConsumption (idle, load) and
#     of nvmlDeviceGetPowerUsage; monotonicity (backward steps);
#   - the counter against integrated power x time: idle, under a load (a PTX
#     FMA kernel the driver JIT-compiles: no CUDA toolkit needed), and while
#     power falls right after the load;
#   - read overhead of each call;
#   - UUID, power limit (read; set to min + 100 W and restored where
#     permitted), temperature and throttle reasons idle and under load.
# Then, when the CLI is at hand:
#   - `energylens meters --validate 3 --read 2` after 5 s of idle (the
#     library's view: devices, UUIDs, limits, validation);
#   - the CUDA_VISIBLE_DEVICES mapping, by index and by UUID;
#   - a short `energylens profile` of the fake server with the REAL NVML
#     meter while the PTX load runs (power_w, metered_devices, method);
#   - temperature and throttle reasons recorded per point (gpu_temp_max_c,
#     throttle_reasons), and the CPU and DRAM energy columns from RAPL when
#     this machine exposes them;
#   - a one-point profile with the power_limit_w axis at min + 100 W: the
#     limit set by the profiler and restored when the sweep ends;
#   - the same killed with SIGKILL while the limit is set: the restore file
#     stays, and the rerun restores the limit before it finishes the sweep.
# Lines starting PASS, FAIL or SKIP are the verdicts of the profiler's paths.
# Without an NVIDIA driver and GPU (or a C compiler) it prints one
# "SKIP gpu-check: <why>" line and exits 0.
#
# Needs only a C compiler and the NVIDIA driver (libnvidia-ml.so.1,
# libcuda.so.1); the project's dependencies are needed only by the CLI
# (carry its shared libraries in LD_LIBRARY_PATH on a bare machine).
#
# usage: scripts/gpu-check.sh            (from the repository root)
# env:   GPU_CHECK_DEVICE=N  GPU index (default 0)
#        GPU_CHECK_LOAD_S=S  seconds under load (default 12)
#        GPU_CHECK_QUICK=1   every phase shortened (tests with a fake NVML)
#        NVML_LIB, CUDA_LIB  libraries to load instead (tests: a fake NVML)
#        EL                  the CLI (default $BUILD/energylens)
#        EL_LIBS             folder of the CLI's shared libraries (LD_LIBRARY_PATH
#                            for the CLI and the fake server only, not for cc)
#        FAKE_SERVER         the fake OpenAI server (default $BUILD/fakes/fake_server)
#        BUILD               build folder (default build)
set -eu
cd "$(dirname "$0")/.."
CC=${CC:-cc}
T=$(mktemp -d "${TMPDIR:-/tmp}/energylens-gpu-check.XXXXXX")
BIN=$T/gpu-check
LOADPID=""
trap '[ -n "$LOADPID" ] && kill "$LOADPID" 2>/dev/null; rm -rf "$T"' EXIT
command -v "$CC" >/dev/null 2>&1 || {
    echo "SKIP gpu-check: no C compiler ($CC)"
    exit 0
}
# libm stays linked even unused here: a fake NVML (tests) needs sin/cos from it
"$CC" -std=c11 -O2 -Wall -Wextra -o "$BIN" scripts/gpu-check.c -ldl -Wl,--no-as-needed -lm -pthread
DEV=${GPU_CHECK_DEVICE:-0}
if ! PROBE=$("$BIN" --probe 2>&1); then
    echo "SKIP gpu-check: no NVIDIA GPU to check here ($(echo "$PROBE" | sed 's/^gpu-check: //' | head -1))"
    exit 0
fi
echo "== NVML checks ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -n))"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi -i "$DEV" --query-gpu=name,driver_version,power.limit,power.min_limit,power.max_limit,temperature.gpu,clocks_event_reasons.active --format=csv,noheader 2>/dev/null ||
        nvidia-smi -i "$DEV" --query-gpu=name,driver_version,power.limit,clocks.max.sm --format=csv,noheader || true
fi
timeout 120 "$BIN" || echo "gpu-check: the checks failed (status $?)"

BUILD=${BUILD:-build}
EL=${EL:-$BUILD/energylens}
if [ ! -x "$EL" ]; then
    echo "(build the CLI with 'make cli', or set EL=, to also run energylens meters and profile)"
    exit 0
fi
abspath() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
EL=$(abspath "$EL")
if [ -n "${EL_LIBS:-}" ]; then
    # a wrapper, so that only the CLI (and the fake server it starts) see them
    printf '#!/bin/sh\nLD_LIBRARY_PATH="%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "%s" "$@"\n' \
        "$(abspath "$EL_LIBS")" "$EL" >"$T/el"
    chmod +x "$T/el"
    EL=$T/el
fi
[ -n "${NVML_LIB:-}" ] && NVML_LIB=$(abspath "$NVML_LIB")
LIBOPT=""
[ -n "${NVML_LIB:-}" ] && LIBOPT="--library $NVML_LIB"
Q=${GPU_CHECK_QUICK:-0}
echo
echo "== energylens meters (the library's view), after idle"
# The validation compares the counter with power x time. Right after a load
# the power reading (a 1 s average on recent drivers) lags the counter
# (see the 'after load' row), so the validation waits for idle first.
[ "$Q" = 1 ] || sleep 5
# shellcheck disable=SC2086
timeout 60 "$EL" meters --kind nvml $LIBOPT --validate 3 --read 2 || true

echo
echo "== CUDA_VISIBLE_DEVICES -> NVML device (by index, by UUID)"
UUID=$("$BIN" --uuid 2>/dev/null || true)
# shellcheck disable=SC2086
if CUDA_VISIBLE_DEVICES=$DEV timeout 30 "$EL" meters --kind nvml $LIBOPT | grep "CUDA_VISIBLE_DEVICES=$DEV -> device $DEV"; then
    echo "PASS mapping by index"
else
    echo "FAIL mapping by index: no 'CUDA_VISIBLE_DEVICES=$DEV -> device $DEV' line"
fi
if [ -n "$UUID" ]; then
    # shellcheck disable=SC2086
    if CUDA_VISIBLE_DEVICES=$UUID timeout 30 "$EL" meters --kind nvml $LIBOPT | grep "CUDA_VISIBLE_DEVICES=$UUID -> device $DEV"; then
        echo "PASS mapping by UUID"
    else
        echo "FAIL mapping by UUID: no 'CUDA_VISIBLE_DEVICES=$UUID -> device $DEV' line"
    fi
else
    echo "SKIP mapping by UUID: the device has no UUID"
fi

FAKE_SERVER=$(abspath "${FAKE_SERVER:-$BUILD/fakes/fake_server}")
if [ ! -x "$FAKE_SERVER" ]; then
    echo "(no fake server at $FAKE_SERVER: set FAKE_SERVER= to profile with the real meter)"
    exit 0
fi
echo
echo "== energylens profile: fake server, REAL nvml meter, PTX load on the GPU"
printf '{"prompt": "the quick brown fox"}\n{"prompt": "jumps over the lazy dog"}\n' >"$T/prompts.jsonl"
LIBLINE=""
[ -n "${NVML_LIB:-}" ] && LIBLINE=", library: \"$NVML_LIB\""
cat >"$T/plan.yaml" <<PLAN
server:
  command: ["$FAKE_SERVER", --port, "{port}", --tp, "{tp}", --ttft-ms, "5", --tpot-ms, "2", --lifetime-s, "120"]
  ready_timeout_s: 10
  stop_timeout_s: 2
workload: {model: fake-model, prompts: prompts.jsonl, requests: 400, max_tokens: 16, request_timeout_s: 10}
sweep:
  heavy: {tp: [1]}
  light: {concurrency: [4, 16]}
measure: {warmup_requests: 8, idle_s: 1, cooldown_s: 0, validate_s: 2, point_timeout_s: 60, min_window_s: 0.5}
meter: {kind: nvml, devices: used$LIBLINE}
output: out
PLAN
LOAD_S=25
[ "$Q" = 1 ] && LOAD_S=8
"$BIN" --load $LOAD_S >"$T/load.log" 2>&1 &
LOADPID=$!
sleep 2
VIS=${UUID:-$DEV}
(cd "$T" && CUDA_VISIBLE_DEVICES=$VIS timeout 90 "$EL" profile plan.yaml -q) || echo "profile failed (status $?)"
wait "$LOADPID" 2>/dev/null || sed 's/^/load: /' "$T/load.log"
LOADPID=""
if [ -f "$T/out/measurements.csv" ]; then
    # the columns an operator checks, one point per line (quoted cells,
    # which hold commas, are blanked first: none of these is quoted)
    sed 's/"[^"]*"/Q/g' "$T/out/measurements.csv" | awk -F, 'NR==1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
             function v(k) { return (k in c) ? $c[k] : "(no column)" }
             { printf "point %s: energy_j %s, power_w %s, idle_power_w %s, window_s %s, metered_devices %s, method %s\n",
               NR - 1, v("energy_j"), v("power_w"), v("idle_power_w"), v("window_s"), v("metered_devices"), v("energy_method")
               printf "point %s: gpu_temp_max_c %s, throttle_reasons %s, gpu_power_limit_w %s, cpu_energy_j %s, dram_energy_j %s\n",
               NR - 1, v("gpu_temp_max_c"), v("throttle_reasons"), v("gpu_power_limit_w"), v("cpu_energy_j"), v("dram_energy_j") }'
    # verdicts: every point has a temperature and throttle reasons; RAPL
    # columns are filled where the machine exposes (and permits) RAPL
    sed 's/"[^"]*"/Q/g' "$T/out/measurements.csv" | awk -F, 'NR==1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
             { n++; if (("gpu_temp_max_c" in c) && $c["gpu_temp_max_c"] != "" && ("throttle_reasons" in c) && $c["throttle_reasons"] != "") ok++
               if (("cpu_energy_j" in c) && $c["cpu_energy_j"] != "") cpu++
               if (("dram_energy_j" in c) && $c["dram_energy_j"] != "") dram++ }
             END { if (n > 0 && ok == n) print "PASS temperature and throttle reasons recorded for each point"
                   else printf "FAIL temperature and throttle reasons recorded for each point: %d of %d\n", ok, n
                   if (n > 0 && cpu == n) print "PASS CPU package energy (RAPL) recorded"
                   else print "SKIP CPU package energy (RAPL): cpu_energy_j empty (RAPL absent or not readable here: run without -q to see why)"
                   if (n > 0 && dram == n) print "PASS DRAM energy (RAPL) recorded"
                   else print "SKIP DRAM energy (RAPL): dram_energy_j empty (no readable RAPL dram zone here: run without -q to see why)" }'
    grep -o '"devices": *\[[^]]*\]' "$T"/out/series/*.json | head -1 || true
    sed -n 's/.*"note": *"\([^"]*\)".*/validation: \1/p' "$T/out/run.json" | head -1
fi
[ -f "$T/out/failures.csv" ] && { echo "failures:"; cat "$T/out/failures.csv"; }

# The profiler's power_limit_w axis with the real meter: one point at
# min + 100 W (the driver's range from `energylens meters`), the limit read
# back in the row, and the original limit restored when the sweep ends.
echo
echo "== energylens profile: power_limit_w axis (set through NVML, restored)"
# shellcheck disable=SC2086
LIM=$(CUDA_VISIBLE_DEVICES=$DEV timeout 30 "$EL" meters --kind nvml $LIBOPT |
    sed -n "s/.*device $DEV: .*power limit \([0-9.]*\) W (min \([0-9.]*\),.*/\1 \2/p" | head -1)
CUR=${LIM%% *}
MIN=${LIM##* }
if [ -z "$LIM" ]; then
    echo "SKIP power limit axis: the limit is not readable"
else
    SET=$(awk -v m="$MIN" -v c="$CUR" 'BEGIN { s = m + 100; if (s > c) s = c; printf "%d", s }')
    sed -e "s/heavy: {tp: \[1\]}/heavy: {tp: [1], power_limit_w: [$SET]}/" \
        -e "s/concurrency: \[4, 16\]/concurrency: [8]/" -e "s/requests: 400/requests: 200/" \
        -e "s/output: out/output: out-pl/" "$T/plan.yaml" >"$T/plan-pl.yaml"
    (cd "$T" && CUDA_VISIBLE_DEVICES=${UUID:-$DEV} timeout 90 "$EL" profile plan-pl.yaml -q) || true
    # shellcheck disable=SC2086
    AFTER=$(CUDA_VISIBLE_DEVICES=$DEV timeout 30 "$EL" meters --kind nvml $LIBOPT |
        sed -n "s/.*device $DEV: .*power limit \([0-9.]*\) W.*/\1/p" | head -1)
    if [ -f "$T/out-pl/measurements.csv" ]; then
        GOT=$(sed 's/"[^"]*"/Q/g' "$T/out-pl/measurements.csv" | awk -F, 'NR==1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["gpu_power_limit_w"]; exit }')
        echo "point at power_limit_w $SET: gpu_power_limit_w $GOT"
        if [ "${GOT%.*}" = "$SET" ]; then echo "PASS power limit set by the profiler"; else echo "FAIL power limit set by the profiler: read $GOT W for $SET W"; fi
    elif grep -q "needs root\|Insufficient\|NO_PERMISSION\|not permitted" "$T/out-pl/failures.csv" 2>/dev/null; then
        echo "SKIP power limit set by the profiler: not permitted here ($(tail -1 "$T/out-pl/failures.csv" | cut -c1-160))"
    else
        echo "FAIL power limit set by the profiler: no row"
        [ -f "$T/out-pl/failures.csv" ] && cat "$T/out-pl/failures.csv"
    fi
    if [ "$AFTER" = "$CUR" ] && [ ! -f "$T/out-pl/power-limits.restore.json" ]; then
        echo "PASS power limit restored after the sweep ($CUR W)"
    else
        echo "FAIL power limit restored after the sweep: $AFTER W now, $CUR W before"
    fi
fi

# The same axis, the profiler killed with SIGKILL while the limit is set:
# the GPU keeps the limit and the restore file stays; the rerun restores it
# first ("an earlier run was killed ...: restoring") and at its end.
echo
echo "== energylens profile: power_limit_w axis, profiler killed with SIGKILL"
limit_now() {
    # shellcheck disable=SC2086
    CUDA_VISIBLE_DEVICES=$DEV timeout 30 "$EL" meters --kind nvml $LIBOPT |
        sed -n "s/.*device $DEV: .*power limit \([0-9.]*\) W.*/\1/p" | head -1
}
if [ -z "$LIM" ] || [ ! -f "$T/out-pl/measurements.csv" ]; then
    echo "SKIP power limit restored after SIGKILL: the limit cannot be set here"
else
    # a point of several seconds (a short server lifetime: the killed
    # run's server is left to exit by itself)
    sed -e "s/requests: 200/requests: 1200/" -e "s/output: out-pl/output: out-kill/" \
        -e "s/--lifetime-s\", \"120\"/--lifetime-s\", \"40\"/" "$T/plan-pl.yaml" >"$T/plan-kill.yaml"
    (cd "$T" && CUDA_VISIBLE_DEVICES=${UUID:-$DEV} exec "$EL" profile plan-kill.yaml -q) &
    KPID=$!
    i=0
    while [ $i -lt 150 ]; do
        if [ -f "$T/out-kill/power-limits.restore.json" ] && [ "$(limit_now)" = "$SET" ]; then break; fi
        sleep 0.2
        i=$((i + 1))
    done
    DURING=$(limit_now)
    kill -9 "$KPID" 2>/dev/null || true
    wait "$KPID" 2>/dev/null || true
    KEPT=$(limit_now)
    if [ "$DURING" = "$SET" ] && [ -f "$T/out-kill/power-limits.restore.json" ]; then
        echo "killed the profiler at $DURING W (restore file kept; the GPU now reads $KEPT W)"
        (cd "$T" && CUDA_VISIBLE_DEVICES=${UUID:-$DEV} timeout 120 "$EL" profile plan-kill.yaml) >"$T/rerun.log" 2>&1 || true
        AFTER=$(limit_now)
        if grep -q "earlier run was killed" "$T/rerun.log" && [ "$AFTER" = "$CUR" ] &&
            [ ! -f "$T/out-kill/power-limits.restore.json" ]; then
            echo "PASS power limit restored after SIGKILL ($CUR W, by the rerun)"
        else
            echo "FAIL power limit restored after SIGKILL: $AFTER W now, $CUR W before"
            tail -5 "$T/rerun.log"
        fi
    else
        echo "FAIL power limit restored after SIGKILL: the profiler never held the limit at $SET W (read $DURING W)"
    fi
fi
exit 0
