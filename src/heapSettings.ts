import { setFlagsFromString } from 'node:v8';

/**
 * V8's heap sizing, set for a process that holds tens of MB for days rather than a page that
 * allocates hundreds for seconds. Both settings are read by V8 each time it sizes the heap, so
 * they take effect when set at start, with no command-line flag (the bin is a plain
 * `#!/usr/bin/env node`); neither is a limit, so a fleet of any size still fits:
 * - the young generation stays at its first size (1 MB a semi-space) instead of growing to
 *   16 MB (32 MB committed, and all it promotes at each collection);
 * - after a full collection the heap may grow by half of what is live before the next one,
 *   where V8 allows up to 4 times what is live when collecting is cheap.
 * Measured on the benchmark's 10,000-task fleet: peak RSS 127-128 -> 93-95 MB, for some 10 %
 * more CPU in a steady round (README, "Scale").
 */
export const HEAP_SETTINGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=50'] as const;

export function applyHeapSettings(): void {
  for (const setting of HEAP_SETTINGS) setFlagsFromString(setting);
}
