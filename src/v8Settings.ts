import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings for a process that holds tens of MB for days and runs a round every few seconds,
 * rather than a page that allocates hundreds for seconds or a server that runs one path hot.
 * V8 reads each of them when it next decides, so they take effect when set at start, with no
 * command-line flag (the bin is a plain `#!/usr/bin/env node`). None is a limit: a fleet of any
 * size still fits, and every function still runs.
 * - The young generation stays at its first size (1 MB a semi-space) instead of growing to
 *   16 MB (32 MB committed, and all it promotes at each collection).
 * - After a full collection the heap may grow by half of what is live before the next one,
 *   where V8 allows up to 4 times what is live when collecting is cheap.
 * - Neither of V8's optimizing compilers runs (TurboFan; Maglev, on by default from Node.js 24):
 *   functions stay in its baseline tier (Sparkplug). A round runs each of our functions a few
 *   thousand times at most up to some 10,000 tasks, and most of its time is in native code
 *   (JSON, signing, zlib, I/O), so optimizing did not pay back what it cost there: CPU on V8's
 *   helper threads at every round's new hot spots, the compilers' working memory, and their own
 *   code in memory (3-5 MB of the node binary's pages). At 50,000 tasks it did: a round costs
 *   half as much again without it. Not in the loops over tasks: a steady round there is held
 *   to the bucket's rate, each call wakes the process alone, and the SDK's and Node.js's code
 *   for a request then costs two to three times as much (README, "The V8 settings").
 *   `--max-opt=1` says the same on Node.js 20 and 22, but set after start Node.js 24 ignores
 *   it: both compilers still run.
 * Measured on the benchmark's fleets (README, "Scale"): the heap settings took the peak RSS at
 * 10,000 tasks from 127-128 to 93-95 MB for some 10 % more CPU in a steady round; the baseline
 * compiler took it on to 87-88 MB, idle RSS from 59 to 54 MB, and a later round's CPU from
 * 43-53 to 27-31 ms per 1,000 tasks (Node.js 20).
 */
export const V8_SETTINGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=50', '--no-turbofan', '--no-maglev'] as const;

/**
 * Before the discoverer's own modules load: resolving the bundle's hundred imports makes the
 * module loader's path functions hot enough for TurboFan, and its code would be in memory from
 * then on.
 */
export function applyV8Settings(): void {
  for (const setting of V8_SETTINGS) setFlagsFromString(setting);
}
