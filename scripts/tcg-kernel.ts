/**
 * Prepare the kernel of the qemu (TCG) test guest ahead of the tests (scripts/install.sh runs this
 * as root): Debian's kernel package, unpacked into /var/cache/ha-tcg/<version> once. See
 * src/lib/src/testing/tcg.ts.
 */
import { prepareTcgKernel } from '@ha/lib/testing';

try {
  const k = await prepareTcgKernel();
  process.stdout.write(`tcg kernel: ${k.version} (${k.package} ${k.packageVersion}) in ${k.dir}\n`);
} catch (e) {
  process.stderr.write(`tcg kernel: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
