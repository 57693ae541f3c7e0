/**
 * The main job (README): boot User-Mode Linux, a real Linux kernel with IPVS and bonding, and show
 * ha at work on it. Each plugin adds its steps here. Exits non-zero if any step does not behave as
 * shown (a step that should fail, such as an invalid state file, must exit with its documented code).
 */
import { bootUml } from '@ha/lib/testing';
import { ROOT } from '@ha/lib/testing';

const script = `
ha() { node ${ROOT}/bin/run.js "$@"; }
failures=0
step() {
  want=$1; shift
  printf '\\n$ %s\\n' "$*"
  "$@"
  got=$?
  if [ "$got" != "$want" ]; then echo "!! exit status $got, expected $want"; failures=$((failures + 1)); fi
}
mkdir -p /tmp/demo

echo "== ha on Linux $(uname -r) (User-Mode Linux) =="
step 0 ha --version
step 0 ha status

echo; echo "== the state file: save, validate, diff, restore =="
step 0 ha save --state /tmp/demo/state.json
step 0 ls -l /tmp/demo/state.json
step 0 cat /tmp/demo/state.json
step 0 ha state validate /tmp/demo/state.json
step 0 ha diff --state /tmp/demo/state.json
step 0 ha restore --dry-run --state /tmp/demo/state.json --json

echo; echo "== bad input: one line, exit 2, nothing changed =="
printf '{"version": 1,\\n "ipvs": [1, 2]\\n}\\n' > /tmp/demo/bad.json
step 2 ha state validate /tmp/demo/bad.json
printf '{"version": 1, "ipvs": ' > /tmp/demo/broken.json
step 2 ha restore /tmp/demo/broken.json
step 2 ha restor --dry-run

echo; echo "== the reference tool reads the same kernel =="
step 0 ipvsadm -Ln

echo
if [ "$failures" = 0 ]; then echo "demo: every step behaved as expected"; else echo "demo: $failures step(s) misbehaved"; fi
exit $failures
`;

process.stdout.write('Booting User-Mode Linux (Linux 6.1 with IPVS and bonding) to show ha on a real kernel...\n');
const boot = await bootUml(script, { timeoutMs: 10 * 60_000 });
process.stdout.write(boot.output);
if (boot.modprobe.trim()) process.stdout.write(`\n(module loading said: ${boot.modprobe.trim()})\n`);
process.exitCode = boot.rc ?? 1;
