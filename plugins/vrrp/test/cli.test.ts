/**
 * The vrrp commands as a user meets them, through the built CLI. Table driven: every invalid
 * invocation (and every invalid vrrp section given to `ha state validate`) exits 2 with one line
 * on stderr that names what was wrong and what is accepted, prints nothing on stdout, and leaves
 * the state file byte for byte as it was (and no temporary or lock file behind). Each case starts
 * from the same file, holding an instance, a script it tracks and a sync group naming it, so that
 * a command that wrongly went ahead, or broke a cross reference, would show. The valid paths
 * (add, set, list, delete, group and script add/delete, the boundary values) are run too, so the
 * refusals are not those of commands that refuse everything.
 *
 * These commands only write the state file; the interfaces they name must exist, and on the
 * host only `lo` (and eth0) do, so the instances run on `lo`. Nothing here touches the kernel.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Run, ha, oneLine, tempDir } from '@ha/lib/testing';

let dir: ReturnType<typeof tempDir>;
/** The state file the commands edit, alone in its folder (so leftovers show). */
let stateDir: string;
let state: string;
/** The bytes every case starts from. */
let base: Buffer;
let env: NodeJS.ProcessEnv;

const BASE_SECTION = {
  scripts: { chk: { command: 'true' } },
  instances: { VI_1: { interface: 'lo', vrid: 51, vips: ['192.0.2.100/24'], trackScripts: [{ script: 'chk' }] } },
  groups: { G1: { instances: ['VI_1'] } },
};

const json = (s: string): any => JSON.parse(s);
const readState = (): any => json(readFileSync(state, 'utf8'));
const run = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Run => ha([...args, '--state', state], { env: { ...env, ...extraEnv } });

function ok(args: string[]): Run {
  const r = run(args);
  assert.equal(r.code, 0, `ha ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr, '', 'nothing on stderr');
  return r;
}

before(() => {
  dir = tempDir('vrrp-cli');
  stateDir = join(dir.path, 'state');
  mkdirSync(stateDir);
  state = join(stateDir, 'state.json');
  // no agent listens there: the commands say nothing about one
  env = { HA_AGENT_SOCKET: join(dir.path, 'agent.sock') };
  ok(['vrrp', 'script', 'add', 'chk', '--command', 'true']);
  ok(['vrrp', 'add', 'VI_1', '-i', 'lo', '--vrid', '51', '--vip', '192.0.2.100/24', '--track-script', 'chk']);
  ok(['vrrp', 'group', 'add', 'G1', '--instance', 'VI_1']);
  base = readFileSync(state);
});
after(() => dir?.remove());

const reset = (): void => writeFileSync(state, base);

/** The one line of a refusal, after the checks every refusal shares. */
function assertRefused(r: Run, what: string, files: string[]): string {
  assert.equal(r.code, 2, `${what}: exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '', `${what}: nothing on stdout`);
  assert.doesNotMatch(r.stderr, /^\s+at .+[:(]\d+:\d+\)?$/m, `${what}: no stack trace`);
  const line = oneLine(r.stderr);
  assert.match(line, /^ha: \S/, what);
  assert.ok(line.length < 600, `${what}: a short line (${line.length} characters)`);
  assert.ok(readFileSync(state).equals(base), `${what}: the state file is unchanged`);
  assert.deepEqual(readdirSync(stateDir).sort(), files, `${what}: no temporary or lock file left`);
  return line;
}

const vips = (n: number, prefix = '192.0.2.'): string[] => Array.from({ length: n }, (_, k) => ['--vip', `${prefix}${k + 1}`]).flat();
const excluded = (n: number): string[] => Array.from({ length: n }, (_, k) => ['--exclude-vip', `198.51.100.${k}/32`]).flat();
/** `vrrp add X -i lo --vrid 60 --vip 192.0.2.5` plus what a case adds. */
const add = (...more: string[]): string[] => [
  'vrrp', 'add', 'X', '-i', 'lo', ...(more.includes('--vrid') ? [] : ['--vrid', '60']), ...(more.includes('--vip') ? [] : ['--vip', '192.0.2.5']), ...more,
];
const addV6 = (...more: string[]): string[] => ['vrrp', 'add', 'X', '-i', 'lo', '--vrid', '60', '--vip', '2001:db8::5/64', ...more];
const at = (name: string, key: string): string => `\\$\\.vrrp\\.instances\\["${name}"\\]\\.${key}: instance ${name}: `;

/** [what, argv (--state is added), what the line must say: the problem and what is accepted] */
const CASES: Array<[string, string[], RegExp]> = [
  // numbers out of range
  ['VRID 0', add('--vrid', '0'), /^ha: --vrid: "0" is not a whole number from 1 to 255$/],
  ['VRID 256', add('--vrid', '256'), /^ha: --vrid: "256" is not a whole number from 1 to 255$/],
  ['VRID on set', ['vrrp', 'set', 'VI_1', '--vrid', '0'], /^ha: --vrid: "0" is not a whole number from 1 to 255$/],
  ['priority 0', add('--priority', '0'), /^ha: -p\/--priority: "0" is not a whole number from 1 to 255$/],
  ['priority 256', add('-p', '256'), /^ha: -p\/--priority: "256" is not a whole number from 1 to 255$/],
  ['priority 1.5', add('--priority', '1.5'), /"1\.5" is not a whole number from 1 to 255/],
  ['VRID abc', add('--vrid', 'abc'), /^ha: --vrid: "abc" is not a whole number from 1 to 255$/],
  ['VRID 1e3', add('--vrid', '1e3'), /^ha: --vrid: "1e3" is not a whole number from 1 to 255$/],
  ['VRID -5', add('--vrid', '-5'), /^ha: --vrid: "-5" is not a whole number from 1 to 255$/],
  ['advert interval 1e3', add('--advert-int', '1e3'), /^ha: --advert-int: "1e3" is not a number of seconds from 0\.01 to 255$/],
  ['advert interval 0', add('--advert-int', '0'), /--advert-int: "0" is not a number of seconds from 0\.01 to 255/],
  ['advert interval 256', add('--advert-int', '256'), /--advert-int: "256" is not a number of seconds from 0\.01 to 255/],
  ['preempt delay 1001', add('--preempt-delay', '1001'), /^ha: --preempt-delay: "1001" is not a number of seconds from 0 to 1000$/],
  ['preempt delay -1', add('--preempt-delay', '-1'), /--preempt-delay: "-1" is not a number of seconds from 0 to 1000/],
  ['garp repeat 0', add('--garp-repeat', '0'), /^ha: --garp-repeat: "0" is not a whole number from 1 to 100$/],
  ['garp delay 3601', add('--garp-delay', '3601'), /--garp-delay: "3601" is not a number of seconds from 0 to 3600/],
  ['garp refresh abc', add('--garp-refresh', 'abc'), /--garp-refresh: "abc" is not a number of seconds from 0 to 86400/],
  ['tracked interface weight -254', add('--track-interface', 'lo:-254'), /^ha: --track-interface: weight -254 in "lo:-254" is not from -253 to 253$/],
  ['tracked script weight 254', add('--track-script', 'chk:254'), /^ha: --track-script: weight 254 in "chk:254" is not from -253 to 253$/],
  ['tracked file weight 254', add('--track-file', '/run/x:254'), /--track-file: weight 254 in "\/run\/x:254" is not from -253 to 253/],
  ['--version 4', add('--version', '4'), /^ha: Expected --version=4 to be one of: 2, 3 \(see: ha vrrp add --help\)$/],
  // the VRRP versions' limits (checked on the whole section: the path is named)
  ['v2 with an IPv6 VIP', addV6('--version', '2'), new RegExp(`${at('X', 'version')}VRRPv2 carries IPv4 only; IPv6 VIPs need version 3$`)],
  ['v2 with a fractional interval', add('--advert-int', '0.5'), new RegExp(`${at('X', 'advertInterval')}VRRPv2 advertises whole seconds \\(1 to 255\\); 0\\.5 is not \\(fractions need version 3\\)$`)],
  ['v3 interval 0.001', add('--version', '3', '--advert-int', '0.001'), /^ha: --advert-int: "0\.001" is not a number of seconds from 0\.01 to 255$/],
  ['v3 interval 0.015', addV6('--advert-int', '0.015'), /advertInterval: instance X: VRRPv3 advertises in hundredths of a second from 0\.01 to 40\.95; 0\.015 is not$/],
  ['v3 interval 41', add('--version', '3', '--advert-int', '41'), new RegExp(`${at('X', 'advertInterval')}VRRPv3 advertises in hundredths of a second from 0\\.01 to 40\\.95; 41 is not$`)],
  ['auth with v3', add('--version', '3', '--auth-pass', 'abc'), new RegExp(`${at('X', 'authPass')}VRRPv3 has no authentication \\(RFC 5798\\); remove authPass or use version 2$`)],
  ['auth with IPv6 (v3 by default)', addV6('--auth-pass', 'abc'), /authPass: instance X: VRRPv3 has no authentication/],
  ['auth added by set --version 3', ['vrrp', 'set', 'VI_1', '--version', '3', '--auth-pass', 'x'], new RegExp(`${at('VI_1', 'authPass')}VRRPv3 has no authentication`)],
  ['a password of 9 bytes', add('--auth-pass', '123456789'), /\$\.vrrp\.instances\.X\.authPass: must be at most 8 characters$/],
  ['a password of 5 characters, 10 bytes', add('--auth-pass', 'ééééé'), new RegExp(`${at('X', 'authPass')}the password is 10 bytes; VRRPv2 carries at most 8$`)],
  ['an empty password', add('--auth-pass', ''), /\$\.vrrp\.instances\.X\.authPass: must be at least 1 character/],
  ['21 VIPs in v2', add(...vips(21)), new RegExp(`${at('X', 'vips')}VRRPv2 adverts carry at most 20 VIPs and this instance has 21; move the rest to excludedVips$`)],
  ['256 excluded VIPs', add('--vip', '192.0.2.5', ...excluded(256)), /\$\.vrrp\.instances\.X\.excludedVips: must have at most 255 item/],
  ['priority 255 with --nopreempt', add('--priority', '255', '--nopreempt'), new RegExp(`${at('X', 'nopreempt')}priority 255 \\(address owner\\) always preempts; nopreempt and preemptDelay do not apply$`)],
  ['priority 255 with a preempt delay', add('--priority', '255', '--preempt-delay', '5'), /priority 255 \(address owner\) always preempts/],
  // interfaces
  ['an unknown interface', ['vrrp', 'add', 'X', '-i', 'nosuch0', '--vrid', '60', '--vip', '192.0.2.5'], /^ha: -i\/--interface: there is no interface nosuch0 here$/],
  ['an interface name of 16 bytes', ['vrrp', 'add', 'X', '-i', 'abcdefghijklmnop', '--vrid', '60', '--vip', '192.0.2.5'], /^ha: -i\/--interface: it is 16 bytes long \(at most 15\)$/],
  ['an empty interface name', ['vrrp', 'add', 'X', '-i', '', '--vrid', '60', '--vip', '192.0.2.5'], /^ha: -i\/--interface: it is empty$/],
  ['set to an unknown interface', ['vrrp', 'set', 'VI_1', '-i', 'nosuch0'], /^ha: -i\/--interface: there is no interface nosuch0 here$/],
  ['tracking an unknown interface', add('--track-interface', 'nosuch0:-10'), /^ha: --track-interface: there is no interface nosuch0 here$/],
  ['tracking no interface', add('--track-interface', ':5'), /^ha: --track-interface: ":5" names no interface \(INTERFACE\[:WEIGHT\]\[:reverse\]\)$/],
  // cross references
  ['one VRID twice on one interface and family', ['vrrp', 'add', 'X', '-i', 'lo', '--vrid', '51', '--vip', '192.0.2.5'],
    new RegExp(`${at('X', 'vrid')}VRID 51 on lo \\(IPv4\\) is already used by instance VI_1; one VRID per interface and family$`)],
  ['an unknown tracked script', add('--track-script', 'nosuch'),
    /trackScripts\[0\]\.script: instance X: tracks script nosuch, which is not defined \(scripts: chk; add one with `ha vrrp script add`\)$/],
  ['set to track an unknown script', ['vrrp', 'set', 'VI_1', '--track-script', 'nosuch:-5'], /instances\["VI_1"\]\.trackScripts\[0\]\.script: instance VI_1: tracks script nosuch, which is not defined/],
  ['a sync group naming a missing instance', ['vrrp', 'group', 'add', 'G2', '--instance', 'nosuch'],
    /\$\.vrrp\.groups\["G2"\]\.instances\[0\]: sync group G2 names instance nosuch, which does not exist \(instances: VI_1\)$/],
  ['an instance in two groups', ['vrrp', 'group', 'add', 'G2', '--instance', 'VI_1'],
    /\$\.vrrp\.groups\["G2"\]\.instances\[0\]: instance VI_1 is in sync groups G1 and G2; an instance can be in one group$/],
  ['a sync group without --instance', ['vrrp', 'group', 'add', 'G2'], /^ha: missing --instance \(a sync group names at least one instance/],
  ['a duplicate sync group', ['vrrp', 'group', 'add', 'G1', '--instance', 'VI_1'], /^ha: sync group G1 already exists$/],
  ['a bad sync group name', ['vrrp', 'group', 'add', 'G 2', '--instance', 'VI_1'], /^ha: group name "G 2" must be 1 to 64 letters, digits, _ \. : or -$/],
  ['deleting a missing sync group', ['vrrp', 'group', 'delete', 'nosuch'], /^ha: no VRRP sync group named nosuch \(sync groups: G1\)$/],
  ['deleting a missing instance', ['vrrp', 'delete', 'nosuch'], /^ha: no VRRP instance named nosuch \(instances: VI_1\)$/],
  ['deleting an instance a group names', ['vrrp', 'delete', 'VI_1'], /^ha: instance VI_1 is in sync group G1; remove it from the group first \(ha vrrp group delete G1\)$/],
  ['deleting a script an instance tracks', ['vrrp', 'script', 'delete', 'chk'], /^ha: script chk is tracked by instance VI_1; stop tracking it there first$/],
  ['deleting a missing script', ['vrrp', 'script', 'delete', 'nosuch'], /^ha: no VRRP script named nosuch \(scripts: chk\)$/],
  ['delete without a name', ['vrrp', 'delete'], /^ha: missing required argument: name \(Name of the instance \(letters, digits, _ \. : -\)\)/],
  // names
  ['a duplicate instance name', ['vrrp', 'add', 'VI_1', '-i', 'lo', '--vrid', '60', '--vip', '192.0.2.5'], /^ha: VRRP instance VI_1 already exists; change it with `ha vrrp set VI_1`$/],
  ['an instance name with a space', ['vrrp', 'add', 'a b', '-i', 'lo', '--vrid', '60', '--vip', '192.0.2.5'], /^ha: instance name "a b" must be 1 to 64 letters, digits, _ \. : or -$/],
  ['an instance name of 65 characters', ['vrrp', 'add', 'a'.repeat(65), '-i', 'lo', '--vrid', '60', '--vip', '192.0.2.5'], /^ha: instance name "a{65}" must be 1 to 64 letters, digits, _ \. : or -$/],
  ['add without --vrid', ['vrrp', 'add', 'X', '-i', 'lo', '--vip', '192.0.2.5'], /^ha: missing --vrid \(an instance needs --interface, --vrid and at least one --vip\)$/],
  ['add without --vip', ['vrrp', 'add', 'X', '-i', 'lo', '--vrid', '60'], /^ha: missing --vip \(an instance needs --interface, --vrid and at least one --vip\)$/],
  ['an unknown flag', ['vrrp', 'set', 'VI_1', '--bogus'], /^ha: Nonexistent flag: --bogus \(see: ha vrrp set --help\)$/],
  // addresses
  ['VIP 192.0.2.300', add('--vip', '192.0.2.300'), /^ha: --vip: "192\.0\.2\.300" is not an IPv4 or IPv6 address \(ADDR\[\/LEN\]/],
  ['VIP 192.0.2.1/33', add('--vip', '192.0.2.1/33'), /^ha: --vip: "192\.0\.2\.1\/33": the prefix length must be a whole number from 0 to 32$/],
  ['VIP 2001:db8::1/129', add('--vip', '2001:db8::1/129'), /^ha: --vip: "2001:db8::1\/129": the prefix length must be a whole number from 0 to 128$/],
  ['VIP with an empty prefix length', add('--vip', '192.0.2.1/'), /"192\.0\.2\.1\/": the prefix length must be a whole number from 0 to 32/],
  ['an empty VIP', add('--vip', ''), /^ha: --vip: "" is not an IPv4 or IPv6 address/],
  ['a VIP on an unknown interface', add('--vip', '192.0.2.5/24 dev nosuch0'), /^ha: --vip "192\.0\.2\.5\/24 dev nosuch0" dev: there is no interface nosuch0 here$/],
  ['a VIP with "dev" and no interface', add('--vip', '192.0.2.5 dev'), /^ha: --vip: "192\.0\.2\.5 dev": after the address only "dev IF" and "label IF:NAME" are accepted$/],
  ['a label on an IPv6 VIP', addV6('--exclude-vip', '2001:db8::7 label lo:1'), /^ha: --exclude-vip: "2001:db8::7 label lo:1": labels are for IPv4 addresses only$/],
  ['mixed families in one instance', add('--vip', '192.0.2.5', '--vip', '2001:db8::5'),
    new RegExp(`instances\\["X"\\]\\.vips\\[1\\]: instance X: VIP 2001:db8::5/128 is IPv6 but the instance's first VIP is IPv4; one family per instance \\(use excludedVips for the other family\\)$`)],
  ['mixed families by set', ['vrrp', 'set', 'VI_1', '--vip', '192.0.2.100/24', '--vip', '2001:db8::100/64'], /instance VI_1: VIP 2001:db8::100\/64 is IPv6 but the instance's first VIP is IPv4/],
  ['a VIP twice', add('--vip', '192.0.2.5', '--vip', '192.0.2.5'), /\$\.vrrp\.instances\.X\.vips\[1\]: duplicate of item 0$/],
  ['a VIP also excluded', add('--vip', '192.0.2.5', '--exclude-vip', '192.0.2.5/24'), /excludedVips: instance X: VIP 192\.0\.2\.5 is listed twice$/],
  ['a unicast peer of another family', add('--unicast-peer', '2001:db8::9'), new RegExp(`instances\\["X"\\]\\.unicastPeers\\[0\\]: instance X: unicast peer 2001:db8::9 is not IPv4 like the VIPs$`)],
  ['a unicast source of another family', addV6('--unicast-source', '192.0.2.1'), /unicastSource: instance X: unicast source 192\.0\.2\.1 is not IPv6 like the VIPs$/],
  ['a unicast peer that is no address', add('--unicast-peer', 'garbage'), /^ha: --unicast-peer: "garbage" is not an IP address \(IPv4 or IPv6\)$/],
  // set
  ['set with nothing to change', ['vrrp', 'set', 'VI_1'], /^ha: nothing to change: give at least one setting \(see ha vrrp set --help\)$/],
  ['set of a missing instance', ['vrrp', 'set', 'nosuch', '--priority', '5'], /^ha: no VRRP instance named nosuch \(instances: VI_1\)$/],
  ['set --vrid without a value', ['vrrp', 'set', 'VI_1', '--vrid'], /^ha: Flag --vrid expects a value/],
  // scripts
  ['script interval 0', ['vrrp', 'script', 'add', 's2', '--command', 'true', '--interval', '0'], /^ha: --interval: "0" is not a number of seconds from 0\.01 to 86400$/],
  ['script rise 0', ['vrrp', 'script', 'add', 's2', '--command', 'true', '--rise', '0'], /^ha: --rise: "0" is not a whole number from 1 to 1000$/],
  ['script weight 254', ['vrrp', 'script', 'add', 's2', '--command', 'true', '--weight', '254'], /^ha: --weight: "254" is not a whole number from -253 to 253$/],
  ['script weight abc', ['vrrp', 'script', 'add', 's2', '--command', 'true', '--weight', 'abc'], /^ha: --weight: "abc" is not a whole number from -253 to 253$/],
  ['script timeout over ten intervals', ['vrrp', 'script', 'add', 's2', '--command', 'true', '--timeout', '20'], /\$\.vrrp\.scripts\["s2"\]\.timeout: script s2: timeout 20 s is over ten intervals$/],
  ['script without --command', ['vrrp', 'script', 'add', 's2'], /^ha: missing --command \(the command to run/],
  ['script with an empty command', ['vrrp', 'script', 'add', 's2', '--command', ''], /\$\.vrrp\.scripts\.s2\.command: must be at least 1 character/],
  ['a duplicate script', ['vrrp', 'script', 'add', 'chk', '--command', 'true'], /^ha: script chk already exists$/],
  ['a bad script name', ['vrrp', 'script', 'add', 'chk 2', '--command', 'true'], /^ha: script name "chk 2" must be 1 to 64 letters, digits, _ \. : or -$/],
];

describe('refused invocations: exit 2, one line saying what is wrong and what is accepted, the file unchanged', () => {
  for (const [what, args, message] of CASES) {
    test(what, () => {
      reset();
      const line = assertRefused(run(args), what, ['state.json']);
      assert.match(line, message, what);
    });
  }
});

test('a refusal with --json is the error object on stdout, nothing on stderr, the file unchanged', () => {
  for (const [args, message] of [
    [add('--vrid', '0'), /--vrid: "0" is not a whole number from 1 to 255/],
    [add('--advert-int', '0.5'), /\$\.vrrp\.instances\["X"\]\.advertInterval: instance X: VRRPv2 advertises whole seconds/],
    [['vrrp', 'delete', 'VI_1'], /is in sync group G1/],
  ] as Array<[string[], RegExp]>) {
    reset();
    const r = run([...args, '--json']);
    assert.equal(r.code, 2, r.stdout);
    assert.equal(r.stderr, '');
    const { error } = json(r.stdout);
    assert.equal(error.exitCode, 2);
    assert.match(error.code, /^E[A-Z]+$/);
    assert.match(error.message, message);
    assert.ok(readFileSync(state).equals(base), 'the state file is unchanged');
  }
});

/** A copy of the base section with `change` applied. */
function section(change: (s: any) => void): any {
  const s = structuredClone(BASE_SECTION) as any;
  change(s);
  return s;
}

/** [what, the vrrp section, the JSON path and what the line must say] */
const FILES: Array<[string, unknown, RegExp]> = [
  ['an unknown key', section((s) => { s.bogus = 1; }), /\$\.vrrp\.bogus: unknown property "bogus" \(expected instances, groups, scripts, scriptUser, notifyTimeout\)$/],
  ['an unknown key in an instance', section((s) => { s.instances.VI_1.colour = 'red'; }), /\$\.vrrp\.instances\.VI_1\.colour: unknown property "colour" \(expected interface, vrid, /],
  ['vrid as a string', section((s) => { s.instances.VI_1.vrid = '51'; }), /\$\.vrrp\.instances\.VI_1\.vrid: expected integer, got string "51"$/],
  ['vrid 256', section((s) => { s.instances.VI_1.vrid = 256; }), /\$\.vrrp\.instances\.VI_1\.vrid: 256 is above the maximum 255$/],
  ['priority 0', section((s) => { s.instances.VI_1.priority = 0; }), /\$\.vrrp\.instances\.VI_1\.priority: 0 is below the minimum 1$/],
  ['vips empty', section((s) => { s.instances.VI_1.vips = []; }), /\$\.vrrp\.instances\.VI_1\.vips: must have at least 1 item/],
  ['a VIP that is no address', section((s) => { s.instances.VI_1.vips = ['192.0.2.300']; }), /\$\.vrrp\.instances\["VI_1"\]\.vips\[0\]: instance VI_1: "192\.0\.2\.300" is not an IPv4 or IPv6 address \(ADDR\[\/LEN\]/],
  ['authPass of 9 characters', section((s) => { s.instances.VI_1.authPass = 'abcdefghi'; }), /\$\.vrrp\.instances\.VI_1\.authPass: must be at most 8 characters$/],
  ['authPass of 10 bytes', section((s) => { s.instances.VI_1.authPass = 'ééééé'; }), /\$\.vrrp\.instances\["VI_1"\]\.authPass: instance VI_1: the password is 10 bytes; VRRPv2 carries at most 8$/],
  ['v2 with an IPv6 VIP', section((s) => { s.instances.VI_1.vips = ['2001:db8::1/64']; s.instances.VI_1.version = 2; }), /\$\.vrrp\.instances\["VI_1"\]\.version: instance VI_1: VRRPv2 carries IPv4 only; IPv6 VIPs need version 3$/],
  ['v2 with interval 0.5', section((s) => { s.instances.VI_1.advertInterval = 0.5; }), /\$\.vrrp\.instances\["VI_1"\]\.advertInterval: instance VI_1: VRRPv2 advertises whole seconds \(1 to 255\)/],
  ['groups naming missing instances', section((s) => { s.groups.G1.instances = ['VI_1', 'VI_9']; }), /\$\.vrrp\.groups\["G1"\]\.instances\[1\]: sync group G1 names instance VI_9, which does not exist \(instances: VI_1\)$/],
  ['an instance in two groups', section((s) => { s.groups.G2 = { instances: ['VI_1'] }; }), /\$\.vrrp\.groups\["G2"\]\.instances\[0\]: instance VI_1 is in sync groups G1 and G2; an instance can be in one group$/],
  ['scripts missing command', section((s) => { s.scripts.chk = { interval: 2 }; }), /\$\.vrrp\.scripts\.chk: missing required property "command"$/],
  ['a tracked script that is not defined', section((s) => { s.instances.VI_1.trackScripts = [{ script: 'gone' }]; }), /\$\.vrrp\.instances\["VI_1"\]\.trackScripts\[0\]\.script: instance VI_1: tracks script gone, which is not defined \(scripts: chk;/],
  ['one VRID twice', section((s) => { s.instances.VI_2 = { interface: 'lo', vrid: 51, vips: ['192.0.2.101'] }; }), /\$\.vrrp\.instances\["VI_2"\]\.vrid: instance VI_2: VRID 51 on lo \(IPv4\) is already used by instance VI_1; one VRID per interface and family$/],
  ['a bad instance name', section((s) => { s.instances['a b'] = { interface: 'lo', vrid: 52, vips: ['192.0.2.101'] }; }), /\$\.vrrp\.instances\["a b"\]: the key "a b" does not match \^\[A-Za-z0-9_\.:-\]\{1,64\}\$$/],
  ['the section is an array', [], /\$\.vrrp: expected object, got array$/],
];

describe('ha state validate: a bad vrrp section exits 2 with its JSON path', () => {
  test('the base file validates', () => {
    reset();
    const r = ha(['state', 'validate', state], { env });
    assert.equal(r.code, 0, r.stderr);
  });
  for (const [what, vrrp, message] of FILES) {
    test(what, () => {
      reset();
      const file = join(dir.path, 'invalid.json');
      const bytes = Buffer.from(`${JSON.stringify({ version: 1, vrrp }, null, 2)}\n`);
      writeFileSync(file, bytes);
      const r = ha(['state', 'validate', file], { env });
      const line = assertRefused(r, what, ['state.json']);
      assert.ok(line.startsWith(`ha: state file ${file}: $.vrrp`), `${what}: names the file and the path: ${line}`);
      assert.match(line, message, what);
      assert.ok(readFileSync(file).equals(bytes), `${what}: the file given is unchanged`);
    });
  }
});

describe('the commands work', () => {
  test('the base file is what script add, add and group add said', () => {
    assert.deepEqual(json(base.toString('utf8')), { version: 1, vrrp: BASE_SECTION });
  });

  test('add with every flag, as JSON, and what the file then holds', () => {
    reset();
    const r = ok(['vrrp', 'add', 'VI_2', '-i', 'lo', '--vrid', '52', '--vip', '192.0.2.101/24', '--vip', '192.0.2.102', '--exclude-vip', '198.51.100.7/24',
      '--priority', '150', '--advert-int', '2', '--preempt-delay', '30', '--accept', '--auth-pass', 'secret', '--unicast-source', '192.0.2.1',
      '--unicast-peer', '192.0.2.2', '--track-interface', 'lo:-30:reverse', '--track-file', '/run/ha-test-weight:5', '--track-script', 'chk:-20',
      '--garp-repeat', '3', '--garp-delay', '2', '--garp-refresh', '60', '--notify-master', '/bin/true master', '--notify', '/bin/true any', '--json']);
    const out = json(r.stdout);
    assert.equal(out.file, state);
    assert.deepEqual(out.added, {
      name: 'VI_2', interface: 'lo', vrid: 52, family: 4, version: 2, priority: 150, advertInterval: 2,
      vips: ['192.0.2.101/24', '192.0.2.102/32'], excludedVips: ['198.51.100.7/24'], preempt: true, preemptDelay: 30, accept: true, auth: 'pass',
      unicastSource: '192.0.2.1', unicastPeers: ['192.0.2.2'],
      tracking: [
        { kind: 'interface', name: 'lo', weight: -30, reverse: true },
        { kind: 'file', name: '/run/ha-test-weight', weight: 5, reverse: false },
        { kind: 'script', name: 'chk', weight: -20, reverse: false },
      ],
    });
    const doc = readState();
    assert.deepEqual(doc.vrrp.instances.VI_2, {
      interface: 'lo', vrid: 52, vips: ['192.0.2.101/24', '192.0.2.102/32'], excludedVips: ['198.51.100.7/24'], priority: 150, advertInterval: 2,
      preemptDelay: 30, accept: true, authPass: 'secret', unicastSource: '192.0.2.1', unicastPeers: ['192.0.2.2'],
      trackInterfaces: [{ interface: 'lo', weight: -30, reverse: true }], trackFiles: [{ path: '/run/ha-test-weight', weight: 5 }],
      trackScripts: [{ script: 'chk', weight: -20 }], garpRepeat: 3, garpDelay: 2, garpRefresh: 60,
      notify: { master: '/bin/true master', any: '/bin/true any' },
    });
    assert.deepEqual(doc.vrrp.instances.VI_1, BASE_SECTION.instances.VI_1, 'the other instance is kept');
    assert.deepEqual(readdirSync(stateDir), ['state.json'], 'no lock or temporary file left');

    // set changes what is given and keeps the rest; a list flag replaces the list
    const s = json(ok(['vrrp', 'set', 'VI_2', '--priority', '200', '--vip', '192.0.2.103/24', '--no-accept', '--nopreempt', '--json']).stdout);
    assert.equal(s.changed.priority, 200);
    assert.deepEqual(s.changed.vips, ['192.0.2.103/24']);
    assert.equal(s.changed.accept, false);
    assert.equal(s.changed.preempt, false);
    const after = readState().vrrp.instances.VI_2;
    assert.equal(after.accept, undefined, '--no-accept removes the key');
    assert.equal(after.nopreempt, true);
    assert.deepEqual(after.excludedVips, ['198.51.100.7/24']);
    assert.equal(after.authPass, 'secret');
    assert.deepEqual(after.trackScripts, [{ script: 'chk', weight: -20 }]);

    // list: every instance sorted, the defaults filled in, groups and scripts
    const list = json(ok(['vrrp', 'list', '--json']).stdout);
    assert.equal(list.file, state);
    assert.deepEqual(list.instances.map((i: { name: string }) => i.name), ['VI_1', 'VI_2']);
    assert.deepEqual(list.instances[0], {
      name: 'VI_1', interface: 'lo', vrid: 51, family: 4, version: 2, priority: 100, advertInterval: 1, vips: ['192.0.2.100/24'], excludedVips: [],
      preempt: true, preemptDelay: 0, accept: false, auth: 'none', unicastPeers: [], tracking: [{ kind: 'script', name: 'chk', reverse: false }],
    });
    assert.equal(list.instances[1].priority, 200);
    assert.deepEqual(list.groups, [{ name: 'G1', instances: ['VI_1'] }]);
    assert.deepEqual(list.scripts, [{ name: 'chk', command: 'true', interval: 1, timeout: 1, rise: 1, fall: 1, weight: 0 }]);
    assert.match(ok(['vrrp', 'list']).stdout, /^NAME\s+INTERFACE\s+VRID.*\nVI_1\s+lo\s+51\s+v2\s+100\s+1s\s+yes\s+192\.0\.2\.100\/24\s+script chk\n/);

    // a group of the new instance, then it goes, then the instance
    ok(['vrrp', 'group', 'add', 'G2', '--instance', 'VI_2', '--notify-master', '/bin/true g']);
    assert.deepEqual(readState().vrrp.groups.G2, { instances: ['VI_2'], notify: { master: '/bin/true g' } });
    const refused = run(['vrrp', 'delete', 'VI_2']);
    assert.equal(refused.code, 2);
    assert.match(oneLine(refused.stderr), /instance VI_2 is in sync group G2/);
    assert.equal(json(ok(['vrrp', 'group', 'delete', 'G2', '--json']).stdout).deleted, 'G2');
    assert.equal(json(ok(['vrrp', 'delete', 'VI_2', '--json']).stdout).deleted, 'VI_2');
    assert.deepEqual(readState(), { version: 1, vrrp: BASE_SECTION }, 'back to the base content');
  });

  test('script add and delete; a section emptied of everything leaves the file', () => {
    reset();
    const r = json(ok(['vrrp', 'script', 'add', 'chk_web', '--command', 'pidof haproxy', '--interval', '2', '--timeout', '3', '--rise', '2', '--fall', '3', '--weight', '-20', '--json']).stdout);
    assert.deepEqual({ script: r.script, command: r.command }, { script: 'chk_web', command: 'pidof haproxy' });
    assert.deepEqual(readState().vrrp.scripts.chk_web, { command: 'pidof haproxy', interval: 2, timeout: 3, rise: 2, fall: 3, weight: -20 });
    const list = json(ok(['vrrp', 'list', '--json']).stdout);
    assert.deepEqual(list.scripts.map((s: { name: string }) => s.name), ['chk', 'chk_web']);
    assert.deepEqual(list.scripts[1], { name: 'chk_web', command: 'pidof haproxy', interval: 2, timeout: 3, rise: 2, fall: 3, weight: -20 });
    ok(['vrrp', 'script', 'delete', 'chk_web']);
    assert.ok(readFileSync(state).equals(base), 'adding and deleting a script gives the same bytes');
    // take everything apart in the order the cross references allow
    ok(['vrrp', 'group', 'delete', 'G1']);
    ok(['vrrp', 'set', 'VI_1', '--priority', '120']);
    ok(['vrrp', 'delete', 'VI_1']);
    ok(['vrrp', 'script', 'delete', 'chk']);
    assert.deepEqual(readState(), { version: 1 }, 'no empty vrrp section is left');
    const empty = json(ok(['vrrp', 'list', '--json']).stdout);
    assert.deepEqual({ instances: empty.instances, groups: empty.groups, scripts: empty.scripts }, { instances: [], groups: [], scripts: [] });
  });

  test('one VRID may be used once per family: IPv4 and IPv6 (v3 by default) on lo', () => {
    reset();
    const out = json(ok(['vrrp', 'add', 'VI_6', '-i', 'lo', '--vrid', '51', '--vip', '2001:db8::100/64', '--advert-int', '0.1', '--json']).stdout);
    assert.deepEqual({ family: out.added.family, version: out.added.version, advertInterval: out.added.advertInterval }, { family: 6, version: 3, advertInterval: 0.1 });
    assert.deepEqual(readState().vrrp.instances.VI_6, { interface: 'lo', vrid: 51, vips: ['2001:db8::100/64'], advertInterval: 0.1 });
  });

  test('HA_STATE names the file when --state is not given', () => {
    reset();
    const r = ha(['vrrp', 'list', '--json'], { env: { ...env, HA_STATE: state } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(json(r.stdout).file, state);
    assert.deepEqual(json(r.stdout).instances.map((i: { name: string }) => i.name), ['VI_1']);
  });
});

/** [what, add's extra flags, what the stored instance must hold]: each limit's last accepted value (add validated the whole file). */
const BOUNDS: Array<[string, string[], Record<string, unknown>]> = [
  ['VRID 1', ['--vrid', '1'], { vrid: 1 }],
  ['VRID 255', ['--vrid', '255'], { vrid: 255 }],
  ['priority 1', ['--priority', '1'], { priority: 1 }],
  ['priority 255 (address owner)', ['--priority', '255'], { priority: 255 }],
  ['20 VIPs in v2', vips(20), { vips: Array.from({ length: 20 }, (_, k) => `192.0.2.${k + 1}/32`) }],
  ['21 VIPs in v2 with one excluded', [...vips(20), '--exclude-vip', '192.0.2.21'], { excludedVips: ['192.0.2.21/32'] }],
  ['255 excluded VIPs', excluded(255), { excludedVips: Array.from({ length: 255 }, (_, k) => `198.51.100.${k}/32`) }],
  ['a password of 8 bytes', ['--auth-pass', '12345678'], { authPass: '12345678' }],
  ['a password of 4 characters, 8 bytes', ['--auth-pass', 'éééé'], { authPass: 'éééé' }],
  ['v2 interval 255', ['--advert-int', '255'], { advertInterval: 255 }],
  ['v3 interval 0.01', ['--version', '3', '--advert-int', '0.01'], { version: 3, advertInterval: 0.01 }],
  ['v3 interval 40.95', ['--version', '3', '--advert-int', '40.95'], { version: 3, advertInterval: 40.95 }],
  ['preempt delay 1000', ['--preempt-delay', '1000'], { preemptDelay: 1000 }],
  ['weights -253 and 253', ['--track-interface', 'lo:-253', '--track-script', 'chk:253'], { trackInterfaces: [{ interface: 'lo', weight: -253 }], trackScripts: [{ script: 'chk', weight: 253 }] }],
  ['garp repeat 100, garp delay 0', ['--garp-repeat', '100', '--garp-delay', '0'], { garpRepeat: 100, garpDelay: 0 }],
  ['a VIP on an interface that exists, with a label', ['--vip', '192.0.2.5/24 dev lo label lo:1'], { vips: ['192.0.2.5/24 dev lo label lo:1'] }],
  ['a unicast peer of the same family', ['--unicast-peer', '192.0.2.9', '--unicast-peer', '192.0.2.10'], { unicastPeers: ['192.0.2.9', '192.0.2.10'] }],
];

describe('the last accepted values are accepted', () => {
  for (const [what, flags, expect] of BOUNDS) {
    test(what, () => {
      reset();
      ok(add(...flags));
      const stored = readState().vrrp.instances.X;
      for (const [key, value] of Object.entries(expect)) assert.deepEqual(stored[key], value, `${what}: ${key}`);
    });
  }
  test('an instance name of 64 characters', () => {
    reset();
    ok(['vrrp', 'add', 'a'.repeat(64), '-i', 'lo', '--vrid', '60', '--vip', '192.0.2.5']);
    assert.ok(readState().vrrp.instances['a'.repeat(64)]);
  });
});
