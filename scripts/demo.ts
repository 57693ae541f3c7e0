/**
 * The main job (README): boot User-Mode Linux, a real Linux kernel with IPVS and bonding, and show
 * ha at work on it (then the VRRP step, on this kernel in network namespaces: plugins/vrrp/test/demo.ts).
 * Each plugin adds its steps here. Exits non-zero if any step does not behave as
 * shown (a step that should fail, such as an invalid state file, must exit with its documented code).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { bootUml } from '@ha/lib/testing';
import { ROOT } from '@ha/lib/testing';

const script = `
ha() { node ${ROOT}/bin/run.cjs "$@"; }
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
printf '{"version": 1,\\n "ipvs": {"services": [{"address": "192.0.2.10", "port": 0}]}\\n}\\n' > /tmp/demo/bad.json
step 2 ha state validate /tmp/demo/bad.json
printf '{"version": 1, "ipvs": ' > /tmp/demo/broken.json
step 2 ha restore /tmp/demo/broken.json
step 2 ha restor --dry-run

echo; echo "== LVS NAT: a virtual service balancing real traffic over three real servers =="
TOOLS=${ROOT}/plugins/ipvs/dist/test/net-tools.js
quiet() { "$@" >/dev/null 2>&1; }
ip netns add client; ip link add d-client type veth peer name eth0 netns client
ip addr add 192.0.2.1/24 dev d-client; ip addr add 192.0.2.10/32 dev d-client; ip link set d-client up
ip -n client link set lo up; ip -n client addr add 192.0.2.100/24 dev eth0; ip -n client link set eth0 up
ip -n client route add default via 192.0.2.1
ip link add br-rs type bridge; ip addr add 198.51.100.1/24 dev br-rs; ip link set br-rs up
for n in 1 2 3; do
  ip netns add web$n; ip link add d-web$n type veth peer name eth0 netns web$n; ip link set d-web$n master br-rs up
  ip -n web$n link set lo up; ip -n web$n addr add 198.51.100.1$n/24 dev eth0; ip -n web$n link set eth0 up
  ip -n web$n route add default via 198.51.100.1
  ip netns exec web$n node $TOOLS server web$n 8080 > /tmp/demo/web$n.log 2>&1 &
  echo $! >> /tmp/demo/pids
done
sysctl -qw net.ipv4.ip_forward=1
for n in 1 2 3; do until grep -q listening /tmp/demo/web$n.log; do sleep 0.2; done; done
echo "(client 192.0.2.100 -> VIP 192.0.2.10:80 on this director -> web1..3 at 198.51.100.11-13:8080)"
step 0 ha ipvs add-service -t 192.0.2.10:80 -s rr
step 0 ha ipvs add-server -t 192.0.2.10:80 -r 198.51.100.11:8080 -m
step 0 ha ipvs add-server -t 192.0.2.10:80 -r 198.51.100.12:8080 -m
step 0 ha ipvs add-server -t 192.0.2.10:80 -r 198.51.100.13:8080 -m -w 2
echo; echo '$ (from the client) 30 new TCP connections to 192.0.2.10:80; which server answered:'
ip netns exec client node $TOOLS burst 192.0.2.10 80 30
sleep 3  # the kernel folds its per-CPU counters into the totals every 2 s
step 0 ha ipvs list --stats
step 0 ha ipvs edit-service -t 192.0.2.10:80 -s wrr
echo; echo '$ (from the client) 40 more connections, now weighted 1:1:2:'
ip netns exec client node $TOOLS burst 192.0.2.10 80 40
step 0 ha ipvs delete-server -t 192.0.2.10:80 -r 198.51.100.13:8080
echo; echo '$ (from the client) 20 more; web3 gets none:'
ip netns exec client node $TOOLS burst 192.0.2.10 80 20
step 0 ha ipvs save
step 0 ha ipvs list --format ipvsadm

echo; echo "== the reference tool reads the same kernel =="
step 0 ipvsadm -Ln

echo; echo "== bonding: active-backup over two veth ports; the active port's peer fails under traffic =="
PINGER=${ROOT}/plugins/bond/dist/test/pinger.js
ip netns add switch; ip -n switch link set lo up; ip -n switch link add br0 type bridge
for p in a b; do ip link add bond-$p type veth peer name sw-$p netns switch; ip -n switch link set sw-$p master br0 up; done
ip -n switch addr add 203.0.113.2/24 dev br0; ip -n switch link set br0 up
echo "(bond0 here, ports bond-a and bond-b; their peers sw-a and sw-b on a bridge in namespace switch, 203.0.113.2)"
step 0 ha bond create bond0 --mode active-backup --ports bond-a,bond-b --primary bond-a --miimon 50
ip addr add 203.0.113.1/24 dev bond0
step 2 ha bond create bond1 --mode active-backup --lacp-rate fast
step 2 ha bond add-port bond0 nosuch0
ip netns exec switch node $PINGER echo 9000 > /tmp/demo/echo.log 2>&1 &
echo $! >> /tmp/demo/pids
until grep -q ready /tmp/demo/echo.log; do sleep 0.2; done
node ${ROOT}/bin/run.cjs bond watch bond0 > /tmp/demo/watch.log 2>&1 &
WATCH=$!
until grep -q watching /tmp/demo/watch.log; do sleep 0.2; done
echo; echo '$ (UDP ping through bond0, one datagram every 10 ms; after 1 s sw-a, the active port'"'"'s peer, goes down)'
node $PINGER ping 203.0.113.2 9000 10 300 & PING=$!
sleep 1; ip -n switch link set sw-a down; wait $PING
step 0 ha bond show bond0
kill $WATCH; wait $WATCH 2>/dev/null
echo; echo '$ (what ha bond watch bond0 printed meanwhile)'; cat /tmp/demo/watch.log
step 0 ha bond set bond0 --downdelay 100
step 0 ha bond list
step 0 ha bond export bond0 --nmcli
step 0 ip -d link show bond0

echo; echo "== the state file now holds the ipvs and bonds sections; restore converges =="
step 0 ha save --state /tmp/demo/state.json
step 0 ha ipvs edit-server -t 192.0.2.10:80 -r 198.51.100.11:8080 -m -w 5
step 0 ha diff --state /tmp/demo/state.json
step 0 ha restore --state /tmp/demo/state.json
step 0 ha diff --state /tmp/demo/state.json
for p in $(cat /tmp/demo/pids); do kill $p; done

echo
if [ "$failures" = 0 ]; then echo "demo: every step behaved as expected"; else echo "demo: $failures step(s) misbehaved"; fi
exit $failures
`;

process.stdout.write('Booting User-Mode Linux (Linux 6.1 with IPVS and bonding) to show ha on a real kernel...\n');
const boot = await bootUml(script, { timeoutMs: 10 * 60_000 });
process.stdout.write(boot.output);
if (boot.modprobe.trim()) process.stdout.write(`\n(module loading said: ${boot.modprobe.trim()})\n`);
process.exitCode = boot.rc ?? 1;

// VRRP needs no IPVS or bonding: its step runs on this kernel, in network namespaces of its own
process.stdout.write('\n');
const vrrp = spawnSync(process.execPath, [join(ROOT, 'plugins', 'vrrp', 'dist', 'test', 'demo.js')], { stdio: 'inherit' });
if (vrrp.status !== 0 && process.exitCode === 0) process.exitCode = vrrp.status ?? 1;
