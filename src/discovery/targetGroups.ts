import { INTERVALS, type IntervalName } from './endpoints.js';
import type { Target } from './resolveTargets.js';

/** A Prometheus target group, as file_sd and HTTP SD read it. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

export type GroupsByInterval = Record<IntervalName, TargetGroup[]>;

/** Labels are already sorted by name, so equal groups give equal keys. */
const toKey = (target: Target): string => `${target.address}\u0000${JSON.stringify(target.labels)}`;

/**
 * One group per target, split by interval, without duplicates, sorted by address and labels:
 * the same fleet always gives the same groups in the same order, whatever the input order.
 */
export function toGroupsByInterval(targets: Iterable<Target>): GroupsByInterval {
  const byInterval = Object.fromEntries(INTERVALS.map((interval) => [interval, new Map<string, Target>()])) as Record<
    IntervalName,
    Map<string, Target>
  >;
  for (const target of targets) byInterval[target.interval].set(toKey(target), target);
  const groups = {} as GroupsByInterval;
  for (const interval of INTERVALS) {
    groups[interval] = [...byInterval[interval]]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, target]) => ({ targets: [target.address], labels: target.labels }));
  }
  return groups;
}

/** The bytes of a file_sd file: indented JSON (readable diffs), `[]` when empty. */
export function toFileSdJson(groups: TargetGroup[]): string {
  return `${JSON.stringify(groups, null, 2)}\n`;
}
