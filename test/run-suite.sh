#!/usr/bin/env bash
# The whole suite, as `npm test` runs it. The qemu image-boot e2e (a guest under software
# emulation for half an hour, mostly waiting on itself) runs beside the rest instead of
# after it, niced so the other tests keep the CPU they need; its output is printed when
# it ends. Tests whose figures are the scheduler's (SCHED_FIFO cores and latency proofs,
# log rotation keeping up with a flood) run once it is done, on a quiet box: beside the
# emulator they missed their bounds. dist/ is compiled once here, before any mocha
# starts, so no two compile it at the same time.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npm run --silent build || exit 1
export OUTPOST_TEST_DIST=ready
beside='test/e2e/image-boot.test.ts'
quiet=('test/e2e/realtime.test.ts' 'test/security/log-flood.test.ts')
log=$(mktemp /tmp/outpost-suite-vm.XXXXXX)
trap 'rm -f "$log"' EXIT
nice -n 10 npx mocha "$beside" >"$log" 2>&1 &
vm=$!
npx mocha --ignore "$beside" "${quiet[@]/#/--ignore=}" 'test/**/*.test.ts'
rest=$?
echo "waiting for $beside (started beside the rest)…"
wait "$vm"
vmrc=$?
cat "$log"
npx mocha "${quiet[@]}"
quietrc=$?
echo "suite: rest exited $rest, $beside exited $vmrc, ${quiet[*]} exited $quietrc"
[ "$rest" -eq 0 ] && [ "$vmrc" -eq 0 ] && [ "$quietrc" -eq 0 ]
