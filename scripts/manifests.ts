/**
 * Write oclif.manifest.json for the CLI and each bundled plugin, so that start-up reads one JSON
 * file per plugin instead of importing every command module.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const oclif = join(root, 'node_modules', 'oclif', 'bin', 'run.js');
const dirs = [root];
const plugins = join(root, 'plugins');
if (existsSync(plugins)) {
  for (const name of readdirSync(plugins).sort()) {
    if (existsSync(join(plugins, name, 'package.json'))) dirs.push(join(plugins, name));
  }
}
const env = { ...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true' };
for (const dir of dirs) execFileSync(process.execPath, [oclif, 'manifest'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] });
