#!/bin/sh
#AIOS --time=10:00
# evaluate.sh - every run succeeded: pick the best one
set -eu
sort -k3 -n "$OUT"/result-*.txt | head -1 >"$OUT/best.txt"
echo "best run: $(cat "$OUT/best.txt")"
