/**
 * Loads dist/oclif-core.cjs (scripts/bundle-core.ts), @oclif/core bundled into one file, when it
 * was made from the installed @oclif/core: each of its entry points is registered in Node's module
 * cache under the file it stands for, so every import of @oclif/core gets the bundled copy and
 * start-up loads one file instead of about a hundred. Otherwise @oclif/core loads as usual.
 *
 * The bundle is compiled with V8's code cache, dist/oclif-core.cjs.cache, written by the build
 * after a run (so it holds the functions a start-up compiles, not only the top level): that
 * halves the time spent compiling @oclif/core at each start. Each build stamps the bundle's first
 * line with a random identifier (`/*ha-bundle:ID*\/`) and the cache starts with the same one, so a
 * cache is used only with the bundle it was made from (a hash of the source would load node:crypto,
 * which costs more than it saves); V8 itself refuses a cache from another V8 version or flags. A
 * missing, stale or refused cache costs speed, never correctness.
 *
 * It also loads dist/ha.cjs (scripts/bundle-ha.ts), ha's own modules bundled into one file, the
 * first time oclif imports one of them (a command, a hook): the import is answered with the
 * bundled module, if the bundle is newer than the compiled modules it was made from (else the
 * modules load as usual). It has a code cache of its own, made the same way.
 */
'use strict';
const { readFileSync, realpathSync, renameSync, statSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { createRequire } = Module;
const { dirname, join, relative, sep } = require('node:path');
const vm = require('node:vm');

const ROOT = join(__dirname, '..');
const BUNDLE = join(ROOT, 'dist', 'oclif-core.cjs');
const HA_BUNDLE = join(ROOT, 'dist', 'ha.cjs');
const STAMP = '/*ha-bundle:';
const ID_BYTES = 32;

/** The build's identifier from the bundle's first line, or undefined. */
function stampOf(bytes) {
  if (bytes.toString('latin1', 0, STAMP.length) !== STAMP) return undefined;
  const id = bytes.subarray(STAMP.length, STAMP.length + ID_BYTES);
  return id.length === ID_BYTES && bytes.toString('latin1', STAMP.length + ID_BYTES, STAMP.length + ID_BYTES + 2) === '*/' ? id : undefined;
}

function read(file) {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Compile and run the bundle as a CommonJS module; its exports, and the script (for createCachedData). */
function compile(file, cacheFile, source, id) {
  const cache = id && read(cacheFile);
  const usable = cache && cache.length > ID_BYTES && cache.subarray(0, ID_BYTES).equals(id);
  // CommonJS's wrapper, and the bundle's import() (bundle-core.ts renames it): this module's,
  // since a vm.Script has none of its own
  const wrapped = `(function (exports, require, module, __filename, __dirname, __haImportHost) { ${source}\n});`;
  const script = new vm.Script(wrapped, { filename: file, cachedData: usable ? cache.subarray(ID_BYTES) : undefined });
  const m = new Module(file);
  m.filename = file;
  m.paths = Module._nodeModulePaths(dirname(file));
  script.runInThisContext().call(m.exports, m.exports, createRequire(file), m, file, dirname(file), hostImport);
  m.loaded = true;
  return {
    exports: m.exports,
    /** Whether V8 took the code cache. */
    cached: Boolean(usable) && !script.cachedDataRejected,
    /** Write the code cache of everything compiled so far (atomically: a reader sees the old one or the new one). */
    writeCache() {
      if (!id) throw new Error(`${file} carries no build identifier: rebuild it (npm run build)`);
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, Buffer.concat([id, script.createCachedData()]));
      renameSync(tmp, cacheFile);
    },
  };
}

/**
 * Compile a stamped bundle file, or undefined when it is missing or does not compile (a damaged
 * file costs speed, never the command: the modules then load as usual).
 */
function compileFile(file, cacheFile) {
  const bytes = read(file);
  if (bytes === undefined) return undefined;
  try {
    return compile(file, cacheFile, bytes.toString('utf8'), stampOf(bytes));
  } catch (error) {
    if (/\bha|\*/.test(process.env.DEBUG || '')) process.stderr.write(`ha: ${file} not used: ${error.message}\n`);
    return undefined;
  }
}

// ---- ha's own modules (dist/ha.cjs) ----

let ha; // undefined: not looked at yet; null: not usable
let haModules;
let fileURLToPath; // node:url's, taken with the bundle

/** Is each build info file the bundle was made from still the same size and age? */
function current(madeFrom) {
  for (const [file, size, mtimeMs] of madeFrom) {
    let s;
    try {
      s = statSync(join(ROOT, file));
    } catch {
      return false;
    }
    // a file system that keeps whole seconds only (User-Mode Linux's hostfs) is compared in seconds
    const same = s.mtimeMs % 1000 === 0 ? s.mtimeMs === Math.floor(mtimeMs / 1000) * 1000 : s.mtimeMs === mtimeMs;
    if (s.size !== size || !same) return false;
  }
  return true;
}

/**
 * Load dist/ha.cjs unless done already: its handle ({exports, cached, writeCache}), or undefined
 * when it is missing, turned off (HA_NO_BUNDLE) or older than the modules it was made from.
 */
function loadHa(file = HA_BUNDLE, cacheFile = `${file}.cache`) {
  if (ha !== undefined) return ha ?? undefined;
  ha = null;
  if (process.env.HA_NO_BUNDLE) return undefined;
  const bundle = compileFile(file, cacheFile);
  if (!bundle || !current(bundle.exports.madeFrom)) return undefined;
  haModules = new Map(bundle.exports.modules);
  ({ fileURLToPath } = require('node:url'));
  ha = bundle;
  return ha;
}

/**
 * import() for the bundles: a file that dist/ha.cjs holds is answered from it (evaluated on first
 * use, once), anything else is imported as usual.
 */
function hostImport(specifier) {
  if (typeof specifier === 'string' && specifier.startsWith('file:') && ha !== null) {
    if (ha === undefined) loadHa();
    if (ha) {
      const load = haModules.get(relative(ROOT, fileURLToPath(specifier)).split(sep).join('/'));
      if (load) return new Promise((resolve) => resolve(load()));
    }
  }
  return import(specifier);
}

/**
 * Load the bundle and register its entry points. Undefined when the bundle is missing or was made
 * from another @oclif/core; else whether the code cache was taken, and how to write it.
 */
function loadCore(file = BUNDLE, cacheFile = `${file}.cache`) {
  const bundle = compileFile(file, cacheFile);
  return bundle && register(bundle.exports, { cached: bundle.cached, writeCache: bundle.writeCache });
}

/**
 * The installed @oclif/core's package.json (its path, and its version), as require.resolve finds
 * it from here: in the root's node_modules when it is there (bin/ has none of its own), read
 * without require.resolve, whose resolution through a package's exports loads Node's ES module
 * resolver at every start.
 */
function corePackage() {
  const at = (file) => ({ file, version: JSON.parse(readFileSync(file, 'utf8')).version });
  try {
    return at(join(realpathSync(join(ROOT, 'node_modules', '@oclif', 'core')), 'package.json'));
  } catch {
    // not there: where Node's resolution finds it
    return at(require.resolve('@oclif/core/package.json'));
  }
}

/** Register the bundle's entry points in Node's module cache, if it was made from the installed @oclif/core. */
function register(exports, handle) {
  const { file: pkgFile, version } = corePackage();
  if (version !== exports.version) return undefined;
  const dir = dirname(pkgFile);
  /** The bundle's copy of one of @oclif/core's files, by its path in the package (lib/execute.js). */
  handle.entry = (file) => Module._cache[join(dir, file)]?.exports;
  for (const [file, load] of exports.modules) {
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
  return handle;
}

module.exports = { BUNDLE, HA_BUNDLE, loadCore, loadHa };
