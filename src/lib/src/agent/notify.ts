/**
 * sd_notify(3) for `Type=notify` units: when systemd starts the agent it sets NOTIFY_SOCKET, and
 * the agent sends READY=1 once its services run and its socket answers (so `systemctl start`
 * returns when the agent is really up, and units ordered after it start then), RELOADING=1 and
 * READY=1 around a reload, STOPPING=1 when it stops, and a STATUS= line with each.
 *
 * The datagram goes on an AF_UNIX SOCK_DGRAM socket (Node has none; the native addon opens it).
 * NOTIFY_SOCKET is removed from the environment once read, so that programs the services run
 * (notify scripts) cannot speak for the agent. Failures to notify are logged once and are
 * otherwise harmless: systemd would then time the start out, which says what is wrong.
 */
import { endianness } from 'node:os';
import { native } from '@ha/native';
import { Logger } from '../log.js';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
/** sizeof(sun_path) */
const SUN_PATH = 108;

/** struct sockaddr_un for a path, or an abstract name given as "@name". */
export function unixAddress(path: string): Buffer {
  const abstract = path.startsWith('@');
  const name = Buffer.from(abstract ? path.slice(1) : path, 'utf8');
  // an abstract name is exactly its bytes after a NUL; a path ends with a NUL
  const length = 2 + 1 + name.length;
  if (name.length + 1 > SUN_PATH) throw new Error(`socket path too long: ${path}`);
  const buf = Buffer.alloc(length);
  if (endianness() === 'LE') buf.writeUInt16LE(AF_UNIX, 0);
  else buf.writeUInt16BE(AF_UNIX, 0);
  if (abstract) name.copy(buf, 3);
  else name.copy(buf, 2);
  return buf;
}

/** CLOCK_MONOTONIC in microseconds, as RELOADING=1 wants it (MONOTONIC_USEC=). */
const monotonicUsec = (): bigint => process.hrtime.bigint() / 1000n;

export class Notifier {
  private fd = -1;
  private warned = false;

  private constructor(private readonly address: Buffer, private readonly logger: Logger) {}

  /** The notifier systemd asked for, or undefined when not started by a Type=notify unit. */
  static fromEnv(logger: Logger, env: NodeJS.ProcessEnv = process.env): Notifier | undefined {
    const path = env.NOTIFY_SOCKET;
    if (!path) return undefined;
    delete env.NOTIFY_SOCKET;
    if (!path.startsWith('/') && !path.startsWith('@')) {
      logger.warn('NOTIFY_SOCKET is neither a path nor an abstract socket; not notifying systemd', { NOTIFY_SOCKET: path });
      return undefined;
    }
    try {
      return new Notifier(unixAddress(path), logger);
    } catch (error) {
      logger.warn('cannot notify systemd', { error: (error as Error).message });
      return undefined;
    }
  }

  ready(status: string): void {
    this.send(`READY=1\nSTATUS=${status}`);
  }

  reloading(): void {
    this.send(`RELOADING=1\nMONOTONIC_USEC=${monotonicUsec()}\nSTATUS=reloading`);
  }

  stopping(): void {
    this.send('STOPPING=1\nSTATUS=stopping');
  }

  /** Send one notification; false when it could not be sent. */
  send(text: string): boolean {
    const n = native();
    if (this.fd < 0) {
      const fd = n.socket(AF_UNIX, SOCK_DGRAM, 0);
      if (fd < 0) return this.failed(`socket: errno ${-fd}`);
      this.fd = fd;
    }
    const rc = n.sendmsg(this.fd, Buffer.from(text, 'utf8'), this.address, null);
    return rc < 0 ? this.failed(`sendmsg: errno ${-rc}`) : true;
  }

  close(): void {
    if (this.fd >= 0) native().close(this.fd);
    this.fd = -1;
  }

  private failed(why: string): false {
    if (!this.warned) {
      this.warned = true;
      this.logger.warn('cannot notify systemd', { error: why });
    }
    return false;
  }
}
