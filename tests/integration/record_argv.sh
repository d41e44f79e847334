#!/usr/bin/env bash
# An exec purge endpoint for the tests: appends its arguments, one line, to $RECORD_FILE.
set -euo pipefail
printf '%s\n' "$*" >>"${RECORD_FILE:?}"
