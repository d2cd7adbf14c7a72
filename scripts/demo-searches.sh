#!/usr/bin/env bash
# Part of `make demo`: a few searches per brand on the simulated workspace.
set -euo pipefail
SL="$1"
PY="$(dirname "$SL")/python"
run() { echo; echo "\$ socialloop $*"; "$SL" "$@"; }

"$SL" brand list --json | "$PY" -c 'import json,sys; [print(b["name"]) for b in json.load(sys.stdin)]' |
while IFS= read -r brand; do
  echo; echo "======== $brand ========"
  run search --brand "$brand" --count
  echo "negative posts:"; "$SL" search --brand "$brand" --count 'sentiment:negative'
  run search --brand "$brand" --limit 3 '"anyone know" OR "does anyone" OR "alguien sabe" OR "quelqu un" OR weiss OR tietääkö'
  run search --brand "$brand" --limit 3 'refund* OR "charged twice" OR cold OR slow OR rude'
done
echo; echo "======== The query language across brands ========"
run search --limit 5 '(latte OR espresso) NEAR/4 (cold OR lukewarm) AND NOT lang:fi'
run search --count '#havenharvest'
run search --limit 3 'intent:complaint AND stage:experience AND lang:es'
run search --limit 3 'emotion:joy AND stage:advocacy'
run search --limit 3 'author:brewhaven AND site:help.brewhaven.example'
echo
echo "The demo workspace is in $SOCIALLOOP_WORKSPACE. Try, for example:"
echo "  .venv/bin/socialloop search --workspace $SOCIALLOOP_WORKSPACE '\"oat milk\" OR #oatmilk'"
