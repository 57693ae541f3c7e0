/**
 * Is a kernel module there for the kernel to use? Loaded (/sys/module), built in
 * (modules.builtin), or installed where the kernel's automatic loading finds it (modules.dep of
 * the running kernel). IPVS loads a scheduler or persistence engine module by itself when a
 * service names it, so "installed" is enough; a module in none of these places makes the kernel
 * refuse the service, which is worth saying before anything has changed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';

let index: { builtin: Set<string>; installed: Set<string> } | undefined;

function moduleIndex(): NonNullable<typeof index> {
  if (index) return index;
  const names = (file: string): Set<string> => {
    const out = new Set<string>();
    let text = '';
    try {
      text = readFileSync(`/lib/modules/${release()}/${file}`, 'utf8');
    } catch {
      return out;
    }
    for (const line of text.split('\n')) {
      // "kernel/net/netfilter/ipvs/ip_vs_wrr.ko.xz: kernel/net/..." or "kernel/.../x.ko"
      const path = line.split(':', 1)[0]!;
      const m = /([^/]+)\.ko(?:\.[a-z]+)?$/.exec(path);
      if (m) out.add(m[1]!.replaceAll('-', '_'));
    }
    return out;
  };
  index = { builtin: names('modules.builtin'), installed: names('modules.dep') };
  return index;
}

export function moduleAvailable(name: string): boolean {
  const n = name.replaceAll('-', '_');
  if (existsSync(`/sys/module/${n}`)) return true;
  const i = moduleIndex();
  return i.builtin.has(n) || i.installed.has(n);
}
