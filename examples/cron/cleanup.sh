#!/bin/sh
#AIOS --time=5:00
# cleanup.sh - a run failed: keep the logs, drop partial results, report
set -eu
rm -f "$OUT"/result-*.txt
echo "a training run failed; see $OUT/train-*.log" | tee "$OUT/FAILED"
