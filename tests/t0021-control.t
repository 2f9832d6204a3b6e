#!/bin/sh
test_description="placeholder"

. "${SHARNESS:-/usr/share/sharness/sharness.sh}"

test_done
