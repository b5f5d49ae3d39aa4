#!/bin/sh
# run-report-test.sh - the report in a real browser. Fits EnergyLens-12 to one
# ML.ENERGY v3 deployment (Qwen3-32B on H100, both of its tasks), writes
# `energylens report` with the bench fixture, and checks: the file is under
# 2 MB, has at least 5 charts and references nothing on the network; then
# renders it in headless Chromium (Debian's chromium package, installed by
# .ci/run) and checks that the page finished, that every chart drew (an SVG
# per chart element) and that no script error or Vega warning was logged
# (the page's loader writes them into the DOM that --dump-dom prints). The
# screenshot is kept as $BUILD/report-screenshot.png. Without chromium the
# browser checks print SKIP and count as passed.
# Prints one line per check and, last, "report-tally PASSED FAILED".
BUILD=${BUILD:-build}
EL="$BUILD/energylens"
DATA=data/mlenergy_v3/mlenergy_v3_llm_mllm.csv
SHOT="$(pwd)/$BUILD/report-screenshot.png"
passed=0
failed=0
ok() {
    passed=$((passed + 1))
    printf 'report-%-28s ok%s\n' "$1" "${2:+ ($2)}"
}
bad() {
    failed=$((failed + 1))
    printf 'report-%-28s FAILED: %s\n' "$1" "$2"
}
finish() {
    echo "report-tally $passed $failed"
    exit 0
}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
set -- --schema mlenergy --where model=Qwen/Qwen3-32B --where gpu=H100

if "$EL" fit "$DATA" "$@" -q -o "$TMP/model.json" >"$TMP/fit.log" 2>&1; then
    ok fit
else
    bad fit "$(tail -n 3 "$TMP/fit.log")"
    finish
fi
if "$EL" report "$TMP/model.json" "$DATA" "$@" --bench tests/report/bench_fixture.json \
    -o "$TMP/report.html" >"$TMP/report.log" 2>&1; then
    ok write "$(tail -n 1 "$TMP/report.log")"
else
    bad write "$(tail -n 3 "$TMP/report.log")"
    finish
fi
html="$TMP/report.html"
size=$(wc -c <"$html")
if [ "$size" -lt 2097152 ]; then ok size "$size bytes"; else bad size "$size bytes, over 2 MB"; fi
nspec=$(grep -o 'class="chart" id="' "$html" | wc -l)
if [ "$nspec" -ge 5 ]; then ok charts "$nspec chart elements"; else bad charts "$nspec < 5"; fi
# Nothing loaded from elsewhere: no external src/href, no <link>, a CSP.
if grep -Eqi '(src|href)="(https?:|//)|<link[ >]' "$html"; then
    bad offline "$(grep -Eoi '(src|href)="(https?:|//)[^"]*"|<link[^>]*>' "$html" | head -n 3)"
elif ! grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$html"; then
    bad offline "no Content-Security-Policy"
else
    ok offline
fi

CHROMIUM=""
for c in chromium chromium-browser; do
    if command -v "$c" >/dev/null 2>&1; then
        CHROMIUM=$(command -v "$c")
        break
    fi
done
if [ -z "$CHROMIUM" ]; then
    printf 'report-%-28s SKIP: chromium not installed (apt-get install chromium)\n' render
    passed=$((passed + 1))
    finish
fi
# Flags: no sandbox (CI runs as root), nothing phoning home, a throwaway
# profile; virtual time lets the page settle before the DOM is dumped.
chrome() {
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-default-apps --disable-extensions --hide-scrollbars \
        --user-data-dir="$TMP/profile" --virtual-time-budget=20000 "$@" 2>>"$TMP/chromium.log"
}
chrome --dump-dom "file://$html" >"$TMP/dom.html"
attr() {
    sed -n "s/.*<html[^>]* $1=\"\\([^\"]*\\)\".*/\\1/p" "$TMP/dom.html" | head -n 1
}
state=$(attr data-el-state)
total=$(attr data-el-charts)
drawn=$(attr data-el-drawn)
errors=$(attr data-el-errors)
warnings=$(attr data-el-warnings)
svgs=$(grep -o '<svg[^>]*class="marks"' "$TMP/dom.html" | wc -l)
if [ "$state" = done ]; then
    ok render "$("$CHROMIUM" --version 2>/dev/null | awk '{print $1, $2}')"
else
    bad render "page state '${state:-none}' (see chromium log: $(tail -n 2 "$TMP/chromium.log"))"
fi
if [ -n "$total" ] && [ "$total" = "$nspec" ] && [ "$drawn" = "$total" ] &&
    [ "$svgs" -eq "$total" ] && [ "$total" -ge 5 ]; then
    ok all-charts-drew "$drawn of $total, $svgs SVGs"
else
    bad all-charts-drew "specs $nspec, charts ${total:-?}, drawn ${drawn:-?}, SVGs $svgs"
fi
if [ "${errors:-x}" = 0 ] && [ "${warnings:-x}" = 0 ]; then
    ok no-script-errors
else
    bad no-script-errors "errors ${errors:-?}, warnings ${warnings:-?}: $(grep -o '<li data-kind[^<]*' \
        "$TMP/dom.html" | sed 's/<li data-kind="[a-z]*">//' | head -n 5)"
fi
rm -f "$SHOT"
chrome --screenshot="$SHOT" --window-size=1280,2400 "file://$html" >/dev/null
if [ -s "$SHOT" ]; then
    ok screenshot "$BUILD/report-screenshot.png"
else
    bad screenshot "no screenshot written"
fi
finish
