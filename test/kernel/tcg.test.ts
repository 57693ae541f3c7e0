/**
 * The second emulated kernel (src/lib/src/testing/tcg.ts): one boot of Debian's kernel under qemu
 * (TCG) proves the harness gives what bootUml gives: the kernel is Debian's (not UML's, not this
 * machine's), the modules are loaded, the checkout's ha talks to IPVS and reads back what ipvsadm
 * made, and a file written to $OUT comes back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ROOT, bootTcg, needsRoot, prepareTcgKernel } from '@ha/lib/testing';

test('a Debian kernel under qemu (TCG) runs a script like User-Mode Linux does', { skip: needsRoot, timeout: 10 * 60_000 }, async () => {
  // the first run on a machine downloads and prepares the kernel (scripts/install.sh does it ahead)
  const kernel = await prepareTcgKernel();
  const boot = await bootTcg(`set -e
uname -r > "$OUT/release"
cat /sys/class/dmi/id/sys_vendor > "$OUT/vendor"
echo "$HA_IN_TCG $HA_IN_UML $NO_COLOR $(pwd)" > "$OUT/env"
grep -c '^ip_vs ' /proc/modules > "$OUT/ip_vs"
ipvsadm -A -t 192.0.2.10:80 -s rr
node bin/run.cjs ipvs list --json > "$OUT/list.json"
ipvsadm -Ln > "$OUT/ipvsadm"
printf 'last line, no newline' > "$OUT/written"
`, { timeoutMs: 5 * 60_000 });
  const why = `rc ${boot.rc}\n${boot.output.slice(-2000)}\nmodprobe: ${boot.modprobe}\nconsole: ${boot.console.slice(-1500)}`;
  assert.equal(boot.rc, 0, why);
  assert.equal(boot.modprobe, '', 'every module loaded');
  const release = boot.files.release?.trim();
  assert.equal(release, kernel.version, why);
  assert.match(release!, /^6\.1\.\d+-\d+-amd64$/, "Debian 12's kernel");
  assert.equal(boot.files.vendor?.trim(), 'QEMU', 'a qemu machine, not User-Mode Linux');
  assert.equal(boot.files.env, `1  1 ${ROOT}\n`);
  assert.equal(boot.files.ip_vs?.trim(), '1', 'ip_vs is loaded');
  const list = JSON.parse(boot.files['list.json'] ?? 'null') as { services: Array<Record<string, unknown>> };
  assert.equal(list.services.length, 1, boot.files['list.json']);
  assert.deepEqual(
    { family: list.services[0]!.family, protocol: list.services[0]!.protocol, address: list.services[0]!.address, port: list.services[0]!.port, scheduler: list.services[0]!.scheduler },
    { family: 'ipv4', protocol: 'tcp', address: '192.0.2.10', port: 80, scheduler: 'rr' },
  );
  assert.match(boot.files.ipvsadm ?? '', /TCP {2}192\.0\.2\.10:80 rr/);
  assert.equal(boot.files.written, 'last line, no newline', 'the last write before power-off comes back');
});
