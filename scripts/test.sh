#!/usr/bin/env bash
# Builds the solution and runs the whole test suite (README: "run the tests").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
dotnet build FineTune.MLNet.sln -c Release --nologo -v q
# English runner output whatever the machine's locale: the summary below parses "Passed!"/"Failed!".
export DOTNET_CLI_UI_LANGUAGE=en
# A log of its own: runs of other checkouts on the same machine must not write into it.
log=$(mktemp -t finetune-test.XXXXXX.log)
trap 'rm -f "$log"' EXIT
dotnet test FineTune.MLNet.sln -c Release --no-build --nologo --logger "console;verbosity=minimal" 2>&1 | tee "$log"
# A plain closing line for CI log readers.
summary=$(grep -E "^(Passed|Failed)!" "$log" | tail -1 || true)
passed=$(sed -nE 's/.*Passed: +([0-9]+).*/\1/p' <<<"$summary")
failed=$(sed -nE 's/.*Failed: +([0-9]+), Passed.*/\1/p' <<<"$summary")
skipped=$(sed -nE 's/.*Skipped: +([0-9]+).*/\1/p' <<<"$summary")
echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
