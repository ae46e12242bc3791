#!/usr/bin/env bash
# Runs the test suite: installs what it needs, builds, runs every test (unit and against real servers).
# With --fast: only the unit half (tests without the Integration trait; see docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  "") target=PluginHost.sln; filter=() ;;
  --fast) target=tests/PluginHost.Tests; filter=(--filter "Category!=Integration") ;;
  *) echo "usage: bash scripts/test.sh [--fast]" >&2; exit 2 ;;
esac
bash scripts/setup.sh
log=$(mktemp)
set +e
# A test still running after 6 minutes is taken as hung: the test host is stopped and
# the tests that were running are named in the log, instead of the run waiting forever.
dotnet test "$target" -c Release --nologo "${filter[@]}" --blame-hang-timeout 6m --blame-hang-dump-type none 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain summary line over all test assemblies.
awk '/(Passed|Failed)!  - Failed:/ { gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) } }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
