/** ipvsadm's command line turned into ha ipvs commands (`ha ipvs -Ln`, `ha ipvs -A -t ...`). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '@ha/lib';
import { ha, oneLine } from '@ha/lib/testing';
import { splitBundles, translateIpvsadm } from '../src/ipvsadm/commandline.js';

const cases: Array<[string, string]> = [
  ['-Ln', 'list --format ipvsadm -n'],
  ['-L -n', 'list --format ipvsadm -n'],
  ['-l', 'list --format ipvsadm'],
  ['-L -n --stats --exact', 'list --format ipvsadm -n --stats --exact'],
  ['-Ln -t 192.0.2.10:80', 'list --format ipvsadm -n -t 192.0.2.10:80'],
  ['-Lnc', 'connections'],
  ['-L -n --daemon', 'sync show --format ipvsadm'],
  ['-Ln --timeout', 'timeout --format ipvsadm'],
  ['-S', 'save'],
  ['-Sn', 'save -n'],
  ['-R', 'restore'],
  ['-C', 'clear'],
  ['-Z', 'zero'],
  ['-Z -t 192.0.2.10:80', 'zero -t 192.0.2.10:80'],
  ['-A -t 192.0.2.10:80 -s wrr', 'add-service -t 192.0.2.10:80 -s wrr'],
  ['--add-service --tcp-service 192.0.2.10:80 --scheduler wrr', 'add-service --tcp-service 192.0.2.10:80 --scheduler wrr'],
  ['-A -t192.0.2.10:80 -swrr -p600', 'add-service -t 192.0.2.10:80 -s wrr -p 600'],
  ['-E -t 192.0.2.10:80 -s rr -p', 'edit-service -t 192.0.2.10:80 -s rr -p'],
  ['-D -t 192.0.2.10:80', 'delete-service -t 192.0.2.10:80'],
  ['-a -t 192.0.2.10:80 -r 198.51.100.1:8080 -m -w 3', 'add-server -t 192.0.2.10:80 -r 198.51.100.1:8080 -m -w 3'],
  ['-e -t 192.0.2.10:80 -r 198.51.100.1:8080 -g -w 0', 'edit-server -t 192.0.2.10:80 -r 198.51.100.1:8080 -g -w 0'],
  ['-d -t 192.0.2.10:80 -r 198.51.100.1:8080', 'delete-server -t 192.0.2.10:80 -r 198.51.100.1:8080'],
  ['--set 900 120 300', 'timeout 900 120 300'],
  ['--start-daemon master --mcast-interface eth1 --syncid 10', 'sync start master --mcast-interface eth1 --syncid 10'],
  ['--stop-daemon backup', 'sync stop backup'],
  ['-A -f 7 -6 -s rr', 'add-service -f 7 -6 -s rr'],
  ['-A -t 192.0.2.10:80 --json', 'add-service -t 192.0.2.10:80 --json'],
];

for (const [line, expected] of cases) {
  test(`ha ipvs ${line} -> ha ipvs ${expected}`, () => {
    assert.equal(translateIpvsadm(line.split(' ')).join(' '), expected);
  });
}

const refused: Array<[string, RegExp]> = [
  ['-t 192.0.2.10:80', /no ipvsadm command/],
  ['-A -L', /-A and -L cannot be given together/],
  ['-Q', /-Q is not an ipvsadm option/],
  ['-LQ', /ipvsadm option -Q \(in -LQ\) is not known/],
  ['--set 900 120', /--set needs three timeouts: TCP TCPFIN UDP/],
  ['--start-daemon', /--start-daemon needs the daemon state: master or backup/],
];

for (const [line, expected] of refused) {
  test(`ha ipvs ${line} is refused (exit 2)`, () => {
    assert.throws(() => translateIpvsadm(line.split(' ')), (e: unknown) => e instanceof UsageError && expected.test(e.message));
  });
}

test('bundles are split as popt splits them', () => {
  assert.deepEqual(splitBundles(['-Lnc']), ['-L', '-n', '-c']);
  assert.deepEqual(splitBundles(['-t192.0.2.1:80']), ['-t', '192.0.2.1:80']);
  assert.deepEqual(splitBundles(['--tcp-service', '192.0.2.1:80']), ['--tcp-service', '192.0.2.1:80']);
});

test('through the CLI: an ipvsadm command line runs its ha command (exit 2 for mistakes, never help and 0)', () => {
  const bad = ha(['ipvs', '-A', '-t', '192.0.2.10:80', '-s', 'nosuch']);
  assert.equal(bad.code, 2);
  assert.match(oneLine(bad.stderr), /Expected --scheduler=nosuch to be one of: rr, wrr/);
  const noCommand = ha(['ipvs', '-n']);
  assert.equal(noCommand.code, 2);
  assert.match(oneLine(noCommand.stderr), /no ipvsadm command/);
  const help = ha(['ipvs']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /ipvs add-service/);
});
