#!/usr/bin/env bash
# ctest fixture for the integration tier (FIXTURES_SETUP / FIXTURES_CLEANUP lab):
#   lab_fixture.sh up    start contrib/lab, publish the good scenario, empty the resolvers' caches
#   lab_fixture.sh down  stop the lab
# The lab's run directory is ${CS_LAB_DIR:-/tmp/cachesweep-lab}; CS_LAB overrides the script.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
lab=${CS_LAB:-$here/../../contrib/lab/lab}
[[ -x $lab ]] || { echo "lab_fixture: $lab is missing or not executable" >&2; exit 1; }

case ${1:-} in
up)
	"$lab" up
	"$lab" scenario good
	"$lab" flush all
	"$lab" status
	;;
down)
	"$lab" status || true
	"$lab" down
	;;
*)
	echo "usage: ${0##*/} up|down" >&2
	exit 2
	;;
esac
