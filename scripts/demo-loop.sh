#!/usr/bin/env bash
# Part of `make demo`: the rest of the loop on the simulated workspace (influence, inbox,
# response times, reports). Expects SOCIALLOOP_WORKSPACE to be set.
set -euo pipefail
SL="$1"
run() { echo; echo "\$ socialloop $*"; "$SL" "$@"; }

echo; echo "======== LEARN: who shapes the conversation ========"
run graph build
run influencers --limit 5 --no-own
run influencers --brand Brewhaven --limit 5 --no-own
run communities --limit 3
run advocates --brand Brewhaven --limit 3 --evidence 1
run advocates --brand Brewhaven --detractors --limit 3 --evidence 1

echo; echo "======== ENGAGE: the inbox and how fast each brand answers ========"
run inbox list --limit 8
run responsetimes

echo; echo "======== ADAPT: share of voice, spikes, the report ========"
run sov
run spikes
"$SL" report --html "$SOCIALLOOP_WORKSPACE/report.html"
echo; echo "Report written to $SOCIALLOOP_WORKSPACE/report.html (self-contained, works offline)."
