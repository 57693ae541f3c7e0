/**
 * Kernel parameters through /proc/sys, by their sysctl(8) names.
 *
 * `net.ipv4.conf.all.arp_ignore` is /proc/sys/net/ipv4/conf/all/arp_ignore. A name that contains
 * "/" is taken as a path under /proc/sys as it is, which is how sysctl(8) spells keys of interfaces
 * with a dot in their name (`net/ipv4/conf/eth0.100/rp_filter`); `confSysctl()` builds either form.
 * The net.* keys belong to the network namespace of the calling process.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { OperationError, UsageError, errnoCode } from '../errors.js';

export const SYSCTL_ROOT = '/proc/sys';

const NAME = /^[A-Za-z0-9_@:+.\-/]+$/;

/** The file under /proc/sys for a sysctl name; a UsageError for a name that cannot be one. */
export function sysctlPath(name: string): string {
  const rel = name.includes('/') ? name.replace(/^\/+/, '') : name.replaceAll('.', '/');
  const parts = rel.split('/');
  if (!NAME.test(name) || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new UsageError(`not a sysctl name: ${JSON.stringify(name)}`);
  }
  return `${SYSCTL_ROOT}/${rel}`;
}

/** `net.ipv4.conf.DEV.KEY` (or the slash form when DEV contains a dot). */
export function confSysctl(family: 'ipv4' | 'ipv6', dev: string, key: string): string {
  return dev.includes('.') ? `net/${family}/conf/${dev}/${key}` : `net.${family}.conf.${dev}.${key}`;
}

function failure(name: string, error: unknown, writing?: string): OperationError {
  const code = (error as NodeJS.ErrnoException).code ?? 'EFAILED';
  if (code === 'ENOENT') {
    return new OperationError(`sysctl ${name} does not exist (missing interface or kernel feature?)`, code, error);
  }
  const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied (are you root?)'
    : code === 'EROFS' ? '/proc/sys is read-only here (an unprivileged container?)'
      : code === 'EINVAL' ? 'the kernel refused the value'
        : (error as Error).message;
  const what = writing === undefined ? `cannot read sysctl ${name}` : `cannot set sysctl ${name} = ${writing}`;
  return new OperationError(`${what}: ${why}`, errnoCode(code), error);
}

/** The value of a sysctl, without the trailing newline (several values stay tab separated). */
export async function readSysctl(name: string): Promise<string> {
  const path = sysctlPath(name);
  try {
    return (await readFile(path, 'utf8')).replace(/\n$/, '');
  } catch (error) {
    throw failure(name, error);
  }
}

/** Set a sysctl. Errors name the key and the value. */
export async function writeSysctl(name: string, value: string | number): Promise<void> {
  const path = sysctlPath(name);
  const text = String(value);
  if (text.includes('\n')) throw new UsageError(`sysctl ${name}: the value must be one line`);
  try {
    await writeFile(path, `${text}\n`, { flag: 'r+' });
  } catch (error) {
    throw failure(name, error, text);
  }
}
