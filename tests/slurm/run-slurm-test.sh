#!/bin/bash
# run-slurm-test.sh - a sharded sweep through a real Slurm (issue 12).
#
# Starts a private single-node Slurm (munged, slurmctld, slurmd from
# Debian's packages; its own config, state, ports and munge socket under a
# temporary directory; 8 fake GRES GPUs, /dev/null symlinks, so Slurm sets
# CUDA_VISIBLE_DEVICES per task) and runs the cluster workflow of
# docs/PROFILING.md against the fake OpenAI server and the fake NVML:
#   energylens profile --emit-slurm -> bash job.sh (sbatch per GPU count)
#   -> the arrays run -> energylens merge -> energylens fit
# and checks: each task got tp x pp GPUs; a task cancelled with scancel
# keeps the points it finished and leaves the rest to the rerun; after the
# rerun every point of the plan is in the merged measurements.csv exactly
# once (none in failures.csv); the merged file fits unchanged.
#
# Needs root (slurmd runs jobs as any user) and the packages slurmctld,
# slurmd, slurm-client and munge. Where they are missing or Slurm does not
# start it prints "SKIP slurm: <why>" and exits 0, unless
# EL_SLURM_REQUIRED=1 (then it fails). Usage: BUILD=build tests/slurm/run-slurm-test.sh
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case "$BUILD" in /*) B=$BUILD ;; *) B=$ROOT/$BUILD ;; esac
EL=$B/energylens

skip() {
    if [ "${EL_SLURM_REQUIRED:-0}" = 1 ]; then
        echo "FAIL slurm: cannot run: $*"
        exit 1
    fi
    echo "SKIP slurm: $*"
    exit 0
}
fail() {
    echo "FAIL slurm: $*"
    [ -n "${T:-}" ] && for f in "$T"/log/*.log; do echo "--- $f"; tail -15 "$f"; done
    exit 1
}

for c in munged munge slurmctld slurmd sbatch squeue scancel sinfo scontrol; do
    command -v "$c" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
    command -v "$c" >/dev/null 2>&1 ||
        skip "'$c' not found (apt-get install slurmctld slurmd slurm-client munge)"
done
[ "$(id -u)" = 0 ] || skip "needs root to run slurmd"
[ -x "$EL" ] && [ -x "$B/fakes/fake_server" ] && [ -f "$B/fakes/fake_nvml.so" ] ||
    fail "build first (make): $EL, $B/fakes/fake_server, $B/fakes/fake_nvml.so"

T=$(mktemp -d /tmp/el_slurm.XXXXXX)
chmod 755 "$T"
PIDS=""
cleanup() {
    if [ -n "${SLURM_CONF:-}" ]; then
        scancel --quiet --user=root >/dev/null 2>&1
    fi
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    sleep 1
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    [ "${EL_SLURM_KEEP:-0}" = 1 ] || rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/state" "$T/spool" "$T/log" "$T/dev" "$T/munge"

# munge: a private daemon, key and socket
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 600 "$T/munge/munge.key"
chmod 700 "$T/munge"
munged --force --key-file="$T/munge/munge.key" --socket="$T/munge/sock" \
    --pid-file="$T/munge/munged.pid" --log-file="$T/log/munged.log" \
    --seed-file="$T/munge/seed" >"$T/log/munged.out" 2>&1 ||
    skip "munged does not start: $(tail -1 "$T/log/munged.out")"
PIDS="$(cat "$T/munge/munged.pid")"

# free TCP ports for the two daemons
port() { # a port nothing listens on
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 30000))
        (: </dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
    done
    echo $p
}
P1=$(port)
P2=$(port)
[ "$P1" != "$P2" ] || P2=$((P1 + 1))
H=$(hostname -s)
NCPU=$(nproc)
for i in 0 1 2 3 4 5 6 7; do ln -s /dev/null "$T/dev/nvidia$i"; done
cat >"$T/slurm.conf" <<CONF
ClusterName=elci
SlurmctldHost=$H(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$P1
SlurmdPort=$P2
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/sock
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
GresTypes=gpu
ReturnToService=2
KillWait=5
NodeName=$H NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=1000 Gres=gpu:8 State=UNKNOWN
PartitionName=ci Nodes=$H Default=YES MaxTime=INFINITE State=UP
CONF
echo "NodeName=$H Name=gpu File=$T/dev/nvidia[0-7]" >"$T/gres.conf"
export SLURM_CONF=$T/slurm.conf

slurmctld -i >"$T/log/slurmctld.out" 2>&1 || skip "slurmctld does not start: $(tail -1 "$T/log/slurmctld.out")"
sleep 1
[ -f "$T/slurmctld.pid" ] && PIDS="$PIDS $(cat "$T/slurmctld.pid")"
slurmd >"$T/log/slurmd.out" 2>&1 || skip "slurmd does not start: $(tail -1 "$T/log/slurmd.out")"
sleep 1
[ -f "$T/slurmd.pid" ] && PIDS="$PIDS $(cat "$T/slurmd.pid")"
ok=0
for _ in $(seq 1 30); do
    if sinfo -h -o %t 2>/dev/null | grep -qx idle; then ok=1; break; fi
    sleep 1
done
[ $ok = 1 ] || skip "the node does not come up: $(sinfo -h 2>&1 | head -1); $(tail -2 "$T/log/slurmd.log" 2>/dev/null)"
echo "slurm: single-node cluster up ($H, $NCPU CPUs, 8 fake GPUs, ports $P1/$P2)"

# ---- the sweep ---------------------------------------------------------------
W=$T/work
mkdir -p "$W"
printf '{"prompt": "the quick brown fox"}\n{"prompt": "jumps over the lazy dog"}\n' >"$W/prompts.jsonl"
cat >"$W/plan.yaml" <<PLAN
server:
  command: ["$B/fakes/fake_server", --port, "{port}", --tp, "{tp}", --pp, "{pp}",
            --ttft-ms, "5", --tpot-ms, "25", --lifetime-s, "600"]
  ready_timeout_s: 10
  stop_timeout_s: 2
  health_interval_s: 0.05
workload: {model: fake-model, prompts: prompts.jsonl, requests: 24, max_tokens: 8,
           request_timeout_s: 5}
sweep:
  heavy: {tp: [1, 2, 4], pp: [1, 2]}
  light: {concurrency: [1, 2, 4]}
measure: {warmup_requests: 2, idle_s: 0.2, cooldown_s: 0, validate_s: 0.2, min_window_s: 0.3,
          sample_period_s: 0.02, point_timeout_s: 60}
meter: {kind: nvml, library: "$B/fakes/fake_nvml.so", devices: used}
output: out
slurm:
  sbatch: [--time=10]
  setup: ["export FAKE_NVML_DEVICES=8", "echo task \$SLURM_ARRAY_TASK_ID gpus \$CUDA_VISIBLE_DEVICES"]
PLAN
cd "$W" || fail "cd $W"
"$EL" profile plan.yaml --list >points.txt 2>/dev/null || fail "profile --list"
NPOINTS=$(wc -l <points.txt)
[ "$NPOINTS" = 18 ] || fail "expected 18 points, the plan has $NPOINTS"
"$EL" profile plan.yaml --emit-slurm job.sh || fail "--emit-slurm"
grep -q -- "--array=0 '--gres=gpu:1'" job.sh &&
    grep -q -- "--array=1,2 '--gres=gpu:2'" job.sh &&
    grep -q -- "--array=3,4 '--gres=gpu:4'" job.sh &&
    grep -q -- "--array=5 '--gres=gpu:8'" job.sh || fail "job.sh does not group by GPU count: $(grep sbatch job.sh)"

wait_done() { # waits until the queue is empty (at most $1 s)
    for _ in $(seq 1 "$1"); do
        [ -z "$(squeue -h 2>/dev/null)" ] && return 0
        sleep 1
    done
    fail "jobs still queued after $1 s: $(squeue 2>&1)"
}
rows() { # data rows of a CSV (0 when absent)
    if [ -f "$1" ]; then echo $(($(wc -l <"$1") - 1)); else echo 0; fi
}

# Pass 1: submit; cancel a task once it has measured a point but not all.
sbatch_out=$(bash job.sh 2>&1) || fail "bash job.sh: $sbatch_out"
echo "$sbatch_out" | sed 's/^/slurm: /'
[ "$(echo "$sbatch_out" | grep -c 'Submitted batch job')" = 4 ] || fail "expected 4 arrays: $sbatch_out"
cancelled=""
for _ in $(seq 1 300); do
    for d in out/shards/heavy-*; do
        [ -f "$d/measurements.csv" ] || continue
        n=$(rows "$d/measurements.csv")
        [ "$n" = 1 ] || continue
        h=${d##*/heavy-}
        task=$((10#$h))
        # the job id of array task $task (the one running heavy-$h)
        jid=$(squeue -h -t R -o '%i' 2>/dev/null | grep -E "_${task}\$" | head -1)
        [ -n "$jid" ] || continue
        # each task asked for tp x pp GPUs
        scontrol show job "$jid" | grep -Eq "TresPerNode=gres:gpu:[0-9]+" ||
            fail "job $jid has no GPU request"
        scancel "$jid"
        cancelled=$h
        echo "slurm: cancelled task $jid (heavy-$h) after $n of its 3 points"
        break 2
    done
    sleep 0.2
done
[ -n "$cancelled" ] || fail "no task to cancel was seen running"
wait_done 300
"$EL" merge out/shards/* -o out >merge1.log 2>&1 || fail "merge after pass 1: $(cat merge1.log)"
n1=$(rows out/measurements.csv)
kept=$(rows "out/shards/heavy-$cancelled/measurements.csv")
[ "$n1" -lt "$NPOINTS" ] || fail "the cancelled task measured all its points anyway"
[ "$kept" -ge 1 ] || fail "the cancelled task lost the points it had finished"
echo "slurm: pass 1: $n1 of $NPOINTS points measured (cancelled heavy-$cancelled kept $kept)"

# Each task saw tp x pp GPUs (Slurm's CUDA_VISIBLE_DEVICES).
for k in 0 1 2 3 4 5; do
    log=$(ls out/slurm-*_"$k".log 2>/dev/null | head -1)
    [ -n "$log" ] || fail "no Slurm log for task $k"
    want=$(sed -n "s/^#   $k: heavy-[0-9]* .*(\([0-9]*\) GPUs*)\$/\1/p" job.sh)
    got=$(sed -n 's/^task [0-9]* gpus //p' "$log" | head -1 | tr ',' '\n' | grep -c .)
    [ "$got" = "$want" ] || fail "task $k: $got GPUs visible, its configuration needs $want ($log)"
done

# Pass 2: resubmit the same script; finished points are skipped, the rest run.
bash job.sh >/dev/null 2>&1 || fail "bash job.sh (pass 2)"
wait_done 300
"$EL" merge out/shards/* -o out >merge2.log 2>&1 || fail "merge after pass 2: $(cat merge2.log)"
n2=$(rows out/measurements.csv)
nf=$(rows out/failures.csv)
[ "$n2" = "$NPOINTS" ] || fail "after the rerun: $n2 of $NPOINTS points in measurements.csv ($nf failed)"
[ "$nf" = 0 ] || fail "$nf points failed: $(cat out/failures.csv)"
# exactly once: the point keys of the merged file are the plan's, no duplicates
keys() { sed 1d "$1" | sed -e 's/^"\([^"]*\)".*/\1/' -e t -e 's/,.*//' | sort; }
dups=$(keys out/measurements.csv | uniq -d)
[ -z "$dups" ] || fail "points measured more than once: $dups"
[ "$(keys out/measurements.csv)" = "$(sort points.txt)" ] ||
    fail "the merged points are not the plan's: $(diff <(keys out/measurements.csv) <(sort points.txt))"
[ "$(rows "out/shards/heavy-$cancelled/measurements.csv")" = 3 ] || fail "heavy-$cancelled incomplete"
echo "slurm: pass 2: all $NPOINTS points exactly once"

"$EL" fit out/measurements.csv -o model.json >fit.log 2>&1 || fail "fit of the merged file: $(tail -3 fit.log)"
[ -s model.json ] || fail "fit wrote no model"
echo "slurm: the merged measurements fit unchanged ($(grep -c . out/measurements.csv) lines)"
echo "slurm: PASS"
