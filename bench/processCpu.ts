import { readFileSync, readdirSync } from 'node:fs';

/**
 * CPU seconds a process has used so far, all its threads (V8's helper threads too): the time
 * each spent running, from /proc/<pid>/task/<tid>/schedstat, in nanoseconds, where the user and
 * system times of /proc/<pid>/stat count in ticks of 10 ms, too coarse for a round of 1,000 tasks.
 */
export function cpuSeconds(pid: number): number {
  let nanoseconds = 0;
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    try {
      nanoseconds += Number(readFileSync(`/proc/${pid}/task/${thread}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return nanoseconds / 1e9;
}
