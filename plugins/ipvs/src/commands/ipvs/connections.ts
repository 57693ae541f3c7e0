import { readFile } from 'node:fs/promises';
import * as Flags from '@oclif/core/flags';
import { UnavailableError, table } from '@ha/lib';
import { IpvsCommand } from '../../base.js';
import { formatIp } from '@ha/lib/netlink';
import { hostPort } from '../../model.js';

export interface Connection {
  protocol: string;
  client: string;
  virtual: string;
  server: string;
  state: string;
  expires: number;
  pe?: string;
}

function addr(text: string): { family: 'ipv4' | 'ipv6'; address: string } {
  if (/^[0-9A-Fa-f]{8}$/.test(text)) return { family: 'ipv4', address: formatIp(Buffer.from(text, 'hex')) };
  const words = text.split(':');
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(Number.parseInt(w, 16) || 0, i * 2));
  return { family: 'ipv6', address: formatIp(b) };
}

/** Parse /proc/net/ip_vs_conn (the connection table has no netlink form). */
export function parseConnections(text: string): Connection[] {
  const out: Connection[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 9) continue;
    const ep = (a: string, p: string): string => {
      const x = addr(a);
      return hostPort(x.family, x.address, Number.parseInt(p, 16));
    };
    const c: Connection = { protocol: f[0]!.toLowerCase(), client: ep(f[1]!, f[2]!), virtual: ep(f[3]!, f[4]!), server: ep(f[5]!, f[6]!), state: f[7]!, expires: Number(f[8]) };
    if (f[9]) c.pe = f[9];
    out.push(c);
  }
  return out;
}

export default class IpvsConnections extends IpvsCommand<{ connections: Connection[] }> {
  static override summary = 'List the IPVS connection table (ipvsadm -Lc).';
  static override description = 'Shows each connection IPVS tracks: protocol, state, seconds until it expires, client, virtual service and the real server it was scheduled to. Read from /proc/net/ip_vs_conn, which is the only interface the kernel offers for it.';
  static override examples = [
    { description: 'All connections.', command: '<%= config.bin %> ipvs connections' },
    { description: 'Connections to one real server, from JSON.', command: "<%= config.bin %> ipvs connections --json | jq '.connections[] | select(.server == \"198.51.100.11:80\")'" },
  ];
  static override flags = {
    state: Flags.string({ summary: 'Only connections in this state (e.g. ESTABLISHED).', helpValue: 'STATE' }),
  };

  protected async exec(): Promise<{ connections: Connection[] }> {
    const { flags } = await this.parse(IpvsConnections);
    let text: string;
    try {
      text = await readFile('/proc/net/ip_vs_conn', 'utf8');
    } catch {
      throw new UnavailableError('/proc/net/ip_vs_conn is missing: IPVS is not loaded in this kernel (modprobe ip_vs)');
    }
    let connections = parseConnections(text);
    if (flags.state) connections = connections.filter((c) => c.state.toLowerCase() === flags.state!.toLowerCase());
    return { connections };
  }

  protected override render(r: { connections: Connection[] }): string {
    if (r.connections.length === 0) return 'No connections.';
    return table(['PROTO', 'STATE', 'EXPIRES', 'CLIENT', 'VIRTUAL', 'SERVER'], r.connections.map((c) => [c.protocol, c.state, c.expires, c.client, c.virtual, c.server]));
  }
}
