#!/usr/bin/env bash
# Part of `make demo`: a few searches per brand on the simulated workspace.
set -euo pipefail
SL="$1"
PY="$(dirname "$SL")/python"
"$SL" brand list --json | "$PY" -c 'import json,sys; [print(b["name"]) for b in json.load(sys.stdin)]' |
while IFS= read -r brand; do
  echo
  echo "== $brand: latest posts"
  "$SL" search --brand "$brand" --limit 3
  echo "== $brand: questions (query: ?-free words like 'anyone OR know OR how')"
  "$SL" search --brand "$brand" --limit 3 'anyone OR "does anyone" OR how OR why OR "alguien" OR "quelqu*"'
done
echo
echo "== Query language: complaints about waiting, any brand, last 7 days of data"
"$SL" search --limit 5 '(wait* OR slow OR queue) AND NOT lang:fi'
echo "== How many posts mention a brand account with a link?"
"$SL" search --count 'site:* OR url:http'  2>/dev/null || "$SL" search --count 'url:http'
echo
echo "Demo workspace ready: try  socialloop search --workspace ${SOCIALLOOP_WORKSPACE:-.} 'your query'"
