#!/bin/bash
# queue-latency.sh - submit 1000 held jobs, then time 10 aios-queue calls
# (run it under: aios-local run --nodes 4 --cpus-per-node 16 -- bench/queue-latency.sh)
# 1000 held jobs, then the median of 10 aios-queue calls
set -e
seq 1 1000 | xargs -P 8 -I{} aios-submit --parsable -H -o /dev/null --wrap true >/dev/null
n=$(aios-queue -h -t PD | wc -l)
for i in $(seq 1 10); do
  s=$(date +%s%N); aios-queue >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000 ))
done | sort -n | awk -v n=$n '{a[NR]=$1} END {printf "aios-queue with %d pending: median %.1f ms (min %.1f, max %.1f) over 10 calls\n", n, (a[5]+a[6])/2000, a[1]/1000, a[10]/1000}'
