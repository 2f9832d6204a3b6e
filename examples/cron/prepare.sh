#!/bin/sh
#AIOS --time=10:00
# prepare.sh - make tonight's inputs (here: a list of learning rates)
set -eu
for i in $(seq 0 15); do echo "0.0$((i + 1))"; done >"$OUT/rates.txt"
echo "prepared $(wc -l <"$OUT/rates.txt") runs at $(date +%T)"
