/**
 * The --json contract: schema/results/ is generated from the commands' result types
 * (scripts/gen-schemas.ts) and must be up to date; every command has one; and the checker that
 * the test harness applies to every --json run catches what breaks a schema. Real outputs are
 * checked wherever tests run the CLI with --json (src/lib/src/testing/results.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Config } from '@oclif/core';
import { ROOT, checkJsonOutput, ha } from '@ha/lib/testing';

const dir = join(ROOT, 'schema', 'results');
const names = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();

test('the result schemas are up to date with the commands\' result types', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'scripts', 'gen-schemas.js'), '--check'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `schema/results/ is out of date: run \`npm run build && npm run man\` and commit it.\n${r.stdout}${r.stderr}`);
});

test('every command has a result schema, and every schema a command', async () => {
  const config = await Config.load({ root: ROOT, userPlugins: false, devPlugins: false });
  const ids = config.commands.filter((c) => c.pluginName !== '@oclif/plugin-autocomplete').map((c) => c.id.replaceAll(':', '-')).sort();
  assert.deepEqual(names().filter((n) => n !== 'error'), ids);
  for (const n of names()) {
    const s = JSON.parse(readFileSync(join(dir, `${n}.json`), 'utf8')) as Record<string, unknown>;
    assert.equal(typeof s.title, 'string', `${n}.json has no title`);
  }
});

test('the checker catches an output that breaks its schema, and lets a good one through', () => {
  const run = (stdout: string, code = 0) => ({ code, signal: null, stdout });
  const args = ['route', 'get', '192.0.2.1', '--json'];
  const good = ha(['route', 'hash-policy', '--json']);
  assert.equal(good.code, 0, good.stderr);
  assert.equal(checkJsonOutput(ROOT, ['route', 'hash-policy', '--json'], good, names), undefined);
  // a field the type does not have, a field of the wrong type, a required field missing
  const policy = JSON.parse(good.stdout) as Record<string, unknown>;
  assert.match(checkJsonOutput(ROOT, ['route', 'hash-policy', '--json'], run(JSON.stringify({ ...policy, extra: 1 })), names) ?? '', /extra/);
  const key = Object.keys(policy)[0]!;
  assert.match(checkJsonOutput(ROOT, ['route', 'hash-policy', '--json'], run(JSON.stringify({ ...policy, [key]: [] })), names) ?? '', new RegExp(key));
  assert.match(checkJsonOutput(ROOT, args, run('{}'), names) ?? '', /does not match schema\/results\/route-get\.json/);
  assert.match(checkJsonOutput(ROOT, args, run('not json'), names) ?? '', /not JSON/);
  // failures are held to the error schema: a code outside the closed set is caught
  assert.equal(checkJsonOutput(ROOT, args, run('{"error":{"code":"EUSAGE","message":"x","exitCode":2}}', 2), names), undefined);
  assert.match(checkJsonOutput(ROOT, args, run('{"error":{"code":"EEXIST","message":"x","exitCode":2}}', 2), names) ?? '', /error\.json/);
  // without --json nothing is checked
  assert.equal(checkJsonOutput(ROOT, ['route', 'get', '192.0.2.1'], run('text'), names), undefined);
});

test('a result-of schema takes any result of its topic, a json-lines schema each line', () => {
  const run = (stdout: string) => ({ code: 0, signal: null, stdout });
  const svc = '{"services":[]}';
  assert.equal(checkJsonOutput(ROOT, ['ipvs', '-Ln', '--json'], run(svc), names), undefined);
  assert.match(checkJsonOutput(ROOT, ['ipvs', '-Ln', '--json'], run('{"nothing":1}'), names) ?? '', /none of the ipvs commands/);
  const line = '{"time":"2026-01-01T00:00:00.000Z","bond":"bond0","event":"active","from":"eth0","to":"eth1","text":"active port eth0 -> eth1"}';
  assert.equal(checkJsonOutput(ROOT, ['bond', 'watch', 'bond0', '--json'], run(`${line}\n${line}\n`), names), undefined);
  assert.match(checkJsonOutput(ROOT, ['bond', 'watch', 'bond0', '--json'], run(`${line}\n{"event":"nonsense"}\n`), names) ?? '', /bond-watch/);
});
