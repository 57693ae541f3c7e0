/**
 * Tuning of V8's heap for the work of a command that reads or writes a big table.
 *
 * V8 doubles its young generation (two semispaces, 1 MB each at start) when many of the objects it
 * collects there survive, and while a table of 60,000 entries is decoded most of them do: it grows
 * to 8 or 16 MB a semispace. Each fresh page is a page fault, which costs about 110 microseconds
 * under User-Mode Linux and 60 under qemu TCG (a 100 MB buffer touched page by page, measured in
 * each): in both the growth cost more time than the collections it saved (ha ipvs list of 10,000
 * services x 5 servers took 0.3-0.9 s less under UML, 1-2 s less under TCG). The survivors go to
 * the old generation either way.
 */
import { setFlagsFromString } from 'node:v8';

let held = false;

/**
 * From now on, keep the young generation at the size it has (V8's growth factor set to 1). Call
 * it once start-up is done: start-up itself is faster with the growth (the code it compiles
 * survives). It is for commands that read a table and print it (ha ipvs list and save), where
 * it was measured; a restore, which also plans and sends, keeps V8's default. Idempotent; it only
 * ever holds the size, never shrinks it.
 */
export function holdYoungGeneration(): void {
  if (held) return;
  held = true;
  // Node keeps V8's flags writable after start (v8.setFlagsFromString); this one is read each time
  // the young generation would grow
  setFlagsFromString('--semi-space-growth-factor=1');
}
