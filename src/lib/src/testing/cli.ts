/**
 * Running the built CLI the way a user does: `node bin/run.cjs …` in a child process.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR, checkJsonOutput } from './results.js';

/** Repository root (this file is src/lib/dist/src/testing/cli.js). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', '..');
export const BIN = join(ROOT, 'bin', 'run.cjs');

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  cwd?: string;
  /** Prefix the command, e.g. ['ip', 'netns', 'exec', ns]. */
  wrap?: string[];
}

/** A clean environment: no colour, no DEBUG, and no user plugins unless a test adds them. */
export function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.DEBUG;
  delete env.HA_STATE;
  delete env.FORCE_COLOR;
  delete env.NODE_TEST_CONTEXT;
  env.HA_DATA_DIR = env.HA_DATA_DIR_FOR_TESTS ?? join(tmpdir(), 'ha-test-no-user-plugins');
  // kernel locks of test runs (per network namespace) away from the machine's own /run/ha
  env.HA_RUN_DIR ??= join(tmpdir(), 'ha-test-run');
  return { ...env, ...extra };
}

export function ha(args: string[], options: RunOptions = {}): Run {
  const cmd = [...(options.wrap ?? []), process.execPath, BIN, ...args];
  const r = spawnSync(cmd[0]!, cmd.slice(1), {
    cwd: options.cwd ?? ROOT,
    env: baseEnv(options.env),
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return held(args, { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr });
}

let names: string[] | undefined;
const schemaNames = (): string[] => (names ??= readdirSync(RESULTS_DIR(ROOT)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)));

/** A run whose --json output breaks its schema (schema/results/) fails the test that made it. */
function held(args: string[], run: Run): Run {
  const problem = checkJsonOutput(ROOT, args, run, schemaNames);
  if (problem) throw new Error(`ha ${args.join(' ')}: ${problem}\n${run.stdout.slice(0, 2000)}`);
  return run;
}

export function haSpawn(args: string[], options: RunOptions = {}): ChildProcess {
  const cmd = [...(options.wrap ?? []), process.execPath, BIN, ...args];
  return spawn(cmd[0]!, cmd.slice(1), { cwd: options.cwd ?? ROOT, env: baseEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Run ha in the background and collect what it prints; resolves when it exits. */
export function haRun(args: string[], options: RunOptions = {}): { child: ChildProcess; done: Promise<Run> } {
  const child = haSpawn(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
  const done = new Promise<Run>((resolve, reject) => child.on('close', (code, signal) => {
    try {
      resolve(held(args, { code, signal, stdout, stderr }));
    } catch (error) {
      reject(error);
    }
  }));
  return { child, done };
}

export function tempDir(label: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `ha-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A data directory in which the test-only plugin under test/fixtures/plugin-demo is installed the
 * way oclif records a user-installed third-party plugin (data/node_modules + package.json).
 * Pass it as HA_DATA_DIR.
 */
export function demoPluginDataDir(dir: string): string {
  const data = join(dir, 'data');
  mkdirSync(join(data, 'node_modules'), { recursive: true });
  symlinkSync(join(ROOT, 'test', 'fixtures', 'plugin-demo'), join(data, 'node_modules', 'ha-plugin-demo'));
  writeFileSync(join(data, 'package.json'), JSON.stringify({
    private: true,
    dependencies: { 'ha-plugin-demo': '0.0.0' },
    oclif: { schema: 1, plugins: [{ type: 'user', name: 'ha-plugin-demo' }] },
  }));
  return data;
}

/** Assert-friendly: the run's stderr as one trimmed line (fails loudly if there are several). */
export function oneLine(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) throw new Error(`expected exactly one line, got ${lines.length}:\n${text}`);
  return lines[0]!;
}

export function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
