/**
 * Kernel errno values translated into words and into errors that name the object concerned.
 */
import { constants } from 'node:os';
import { ERROR_BRAND, HaError, EXIT_FAILED, errnoCode } from '../errors.js';

const names = new Map<number, string>();
for (const [name, num] of Object.entries(constants.errno)) if (!names.has(num)) names.set(num, name);

const text: Record<string, string> = {
  EPERM: 'operation not permitted (are you root?)',
  ENOENT: 'no such object',
  ESRCH: 'no such object',
  EINTR: 'interrupted',
  EIO: 'input/output error',
  ENXIO: 'no such device or address',
  E2BIG: 'argument list too long',
  ENOMEM: 'out of memory',
  EACCES: 'permission denied (are you root?)',
  EFAULT: 'bad address',
  EBUSY: 'resource busy',
  EEXIST: 'already exists',
  ENODEV: 'no such device',
  EINVAL: 'invalid argument',
  ENFILE: 'too many open files in system',
  ENOSPC: 'no space left',
  ERANGE: 'value out of range',
  EAFNOSUPPORT: 'address family not supported',
  EPROTONOSUPPORT: 'protocol not supported',
  EOPNOTSUPP: 'operation not supported',
  ENOBUFS: 'no buffer space available',
  ENETUNREACH: 'network unreachable',
  EHOSTUNREACH: 'host unreachable',
  ENOTSUP: 'operation not supported',
  ENOPROTOOPT: 'protocol not available',
  EADDRNOTAVAIL: 'address not available',
  ENOTEMPTY: 'not empty',
  EMSGSIZE: 'message too long',
};

/** `EEXIST` for 17, or `E123` for a number Node does not know. */
export function errnoName(errno: number): string {
  return names.get(errno) ?? `E${errno}`;
}

export function errnoText(errno: number): string {
  return text[errnoName(errno)] ?? `error ${errno}`;
}

/** How a request's errors read: the object it concerns, and overrides for particular errnos. */
export interface ErrorContext {
  /** e.g. "service 192.0.2.10:80/tcp" or "link veth0". */
  object?: string;
  /** errno name → full message, e.g. {EEXIST: 'service 192.0.2.10:80/tcp already exists'}. */
  messages?: Partial<Record<string, string>>;
}

export class NetlinkError extends HaError {
  static readonly [ERROR_BRAND] = 'NetlinkError';
  override name = 'NetlinkError';
  readonly errno: number;
  readonly errnoName: string;
  readonly object?: string;
  readonly extAck?: string;
  constructor(errno: number, ctx: ErrorContext = {}, extAck?: string) {
    const name = errnoName(errno);
    const specific = ctx.messages?.[name];
    // the kernel's own explanation (extended ACK, "Invalid prefsrc address") says more than the
    // errno's words ("invalid argument"); where we have a message naming the object's problem
    // exactly (it exists already, it does not exist), ours is the clearer one
    const reason = extAck ? extAck.charAt(0).toLowerCase() + extAck.slice(1) : errnoText(errno);
    let message = specific ?? (ctx.object ? `${ctx.object}: ${reason}` : `kernel refused the request: ${reason}`);
    if (name === 'EEXIST' && !specific && ctx.object) message = `${ctx.object} already exists`;
    if ((name === 'ENOENT' || name === 'ESRCH') && !specific && ctx.object) message = `${ctx.object} does not exist`;
    super(message, { exitCode: EXIT_FAILED, code: errnoCode(name) });
    this.errno = errno;
    this.errnoName = name;
    this.object = ctx.object;
    this.extAck = extAck;
  }
}
