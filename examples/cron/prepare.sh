#!/bin/sh
#AIOS --time=10:00
# prepare.sh - make tonight's inputs (here: a list of learning rates)
set -eu
for i in $(seq 1 16); do printf '0.%02d\n' "$i"; done >"$OUT/rates.txt"
echo "prepared $(wc -l <"$OUT/rates.txt") runs at $(date +%T)"
