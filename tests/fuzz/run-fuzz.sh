#!/bin/sh
# Builds every tests/fuzz/fuzz_*.c as a libFuzzer target (clang, ASan+UBSan)
# against a fuzzer-instrumented library, runs each for SECONDS (default 60)
# on a scratch copy of its corpus, then replays the saved corpus.
# usage: [FUZZ_TARGETS="slurm plan"] sh tests/fuzz/run-fuzz.sh [SECONDS]
# FUZZ_TARGETS (names without fuzz_, space or comma separated) runs a subset.
# `make fuzz-long` runs it with FUZZ_SECONDS (default 600) per target. With
# FUZZ_KEEP=1 new corpus inputs are kept in tests/fuzz/corpus/ and crashes
# are saved there as regression inputs (crash-*), replayed by every build.
set -e
secs=${1:-60}
out=build-fuzz
make -s BUILD=$out CC=clang SAN=1 OPT="-O1 -g -fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer" $out/libenergylens.a
failed=0
libs="-lnlopt -ljansson -lcsv -lyaml -lgsl -lgslcblas -ldl -lm -pthread"
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    if [ -n "${FUZZ_TARGETS:-}" ]; then
        case " $(echo "$FUZZ_TARGETS" | tr ',' ' ') " in
        *" ${name#fuzz_} "*) ;;
        *) continue ;;
        esac
    fi
    corpus=tests/fuzz/corpus/${name#fuzz_}
    mkdir -p "$corpus"
    clang -std=c11 -g -O1 -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        "$src" $out/libenergylens.a $libs -o "$out/$name"
    scratch=$(mktemp -d)
    cp -r "$corpus"/. "$scratch"/ 2>/dev/null || true
    echo "fuzzing $name for $secs s"
    # a crash leaves crash-* in the corpus directory: it becomes a
    # regression input that tests/fuzz/replay.c runs in every build
    # libFuzzer's own status decides: a crash, leak or timeout fails the
    # run (the filtered log alone would hide it behind grep's status)
    log=$(mktemp)
    rc=0
    "$out/$name" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$corpus/" -print_final_stats=1 "$scratch" >"$log" 2>&1 || rc=$?
    grep -E '^#[0-9]+.*(DONE|pulse)|stat::number_of_executed_units|cov:|ERROR|SUMMARY|Test unit written' "$log" | tail -n 6 || true
    if [ "$rc" -ne 0 ]; then
        echo "$name: libFuzzer exited with status $rc (input saved in $corpus/)" >&2
        failed=$((failed + 1))
    fi
    if [ "${FUZZ_KEEP:-0}" = 1 ]; then
        "$out/$name" -merge=1 "$corpus" "$scratch" >/dev/null 2>&1 || true
    fi
    rm -rf "$scratch"
    rc=0
    "$out/$name" -runs=0 "$corpus" >"$log" 2>&1 || rc=$?
    tail -n 1 "$log"
    if [ "$rc" -ne 0 ]; then
        grep -E 'ERROR|SUMMARY|Running:' "$log" | tail -n 4 || true
        echo "$name: corpus replay failed with status $rc" >&2
        failed=$((failed + 1))
    fi
    rm -f "$log"
done
if [ "$failed" -ne 0 ]; then
    echo "run-fuzz.sh: $failed failure(s)" >&2
    exit 1
fi
