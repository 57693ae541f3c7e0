/**
 * Small network programs for the traffic tests (run inside namespaces in User-Mode Linux):
 *   server NAME PORT [PORT…]   answer each TCP line with "NAME LINE" (and say "NAME" on connect)
 *   burst HOST PORT N          make N connections in turn; print {NAME: count} as JSON
 *   hold HOST PORT             keep one connection open: print the server's name, then for each
 *                              line on stdin send it and print the reply; exit on stdin EOF
 */
import { createConnection, createServer, Socket } from 'node:net';
import { createInterface } from 'node:readline';

const [mode, ...args] = process.argv.slice(2);

function firstLine(sock: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (b: Buffer): void => {
      buf += b.toString('utf8');
      const i = buf.indexOf('\n');
      if (i !== -1) {
        sock.off('data', onData);
        resolve(buf.slice(0, i));
      }
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.once('close', () => reject(new Error('closed before a line arrived')));
  });
}

function connect(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host, port }, () => resolve(s));
    s.once('error', reject);
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
  });
}

if (mode === 'server') {
  const [name, ...ports] = args;
  for (const p of ports) {
    createServer((sock) => {
      sock.write(`${name}\n`);
      createInterface({ input: sock }).on('line', (line) => sock.write(`${name} ${line}\n`));
      sock.on('error', () => sock.destroy());
    }).listen(Number(p), () => process.stdout.write(`listening ${p}\n`));
  }
} else if (mode === 'burst') {
  const [host, port, n] = [args[0]!, Number(args[1]), Number(args[2])];
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const s = await connect(host, port);
    const name = await firstLine(s);
    counts[name] = (counts[name] ?? 0) + 1;
    s.end();
    await new Promise((r) => s.once('close', r));
  }
  process.stdout.write(`${JSON.stringify(counts)}\n`);
} else if (mode === 'hold') {
  const [host, port] = [args[0]!, Number(args[1])];
  const s = await connect(host, port);
  s.setTimeout(0);
  const lines = createInterface({ input: s });
  const next = (): Promise<string> => new Promise((resolve) => lines.once('line', resolve));
  process.stdout.write(`${await next()}\n`);
  for await (const cmd of createInterface({ input: process.stdin })) {
    s.write(`${cmd}\n`);
    process.stdout.write(`${await next()}\n`);
  }
  s.end();
} else {
  process.stderr.write(`net-tools: unknown mode ${mode}\n`);
  process.exitCode = 2;
}
