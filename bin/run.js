#!/usr/bin/env node
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Use dist/oclif-core.cjs (scripts/bundle-core.ts), @oclif/core bundled into one file, when it was
 * made from the installed @oclif/core: each of its entry points is registered in Node's module
 * cache under the file it stands for, so every import of @oclif/core gets the bundled copy and
 * start-up loads one file instead of about a hundred. Otherwise @oclif/core loads as usual.
 */
function primeOclifCore() {
  let bundle;
  try {
    bundle = require('../dist/oclif-core.cjs');
  } catch {
    return;
  }
  const pkgFile = require.resolve('@oclif/core/package.json');
  if (JSON.parse(readFileSync(pkgFile, 'utf8')).version !== bundle.version) return;
  const Module = require('node:module');
  const dir = dirname(pkgFile);
  for (const [file, load] of bundle.modules) {
    const filename = join(dir, file);
    if (Module._cache[filename]) continue;
    // evaluated when first asked for: a command needs only some of the entry points
    let m;
    Object.defineProperty(Module._cache, filename, {
      configurable: true,
      enumerable: true,
      get() {
        if (!m) {
          m = new Module(filename);
          m.filename = filename;
          m.paths = Module._nodeModulePaths(dirname(filename));
          m.exports = load();
          m.loaded = true;
        }
        return m;
      },
      set(value) {
        Object.defineProperty(Module._cache, filename, { configurable: true, enumerable: true, writable: true, value });
      },
    });
  }
}

if (!process.env.HA_NO_BUNDLE) primeOclifCore();
const { execute } = await import('@oclif/core/execute');
await execute({ dir: import.meta.url });
