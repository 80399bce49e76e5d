#!/usr/bin/env bash
# The whole suite, as `npm test` runs it. The qemu image-boot e2e (about 23 minutes of a
# guest under software emulation, mostly waiting on itself) runs beside the rest instead
# of after it, niced so the other tests keep the CPU they need; its output is printed
# when it ends. dist/ is compiled once here, before either mocha starts, so the two do
# not compile it at the same time.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npm run --silent build || exit 1
export OUTPOST_TEST_DIST=ready
beside='test/e2e/image-boot.test.ts'
log=$(mktemp /tmp/outpost-suite-vm.XXXXXX)
trap 'rm -f "$log"' EXIT
nice -n 10 npx mocha "$beside" >"$log" 2>&1 &
vm=$!
npx mocha --ignore "$beside" 'test/**/*.test.ts'
rest=$?
echo "waiting for $beside (started beside the rest)…"
wait "$vm"
vmrc=$?
cat "$log"
echo "suite: rest exited $rest, $beside exited $vmrc"
[ "$rest" -eq 0 ] && [ "$vmrc" -eq 0 ]
