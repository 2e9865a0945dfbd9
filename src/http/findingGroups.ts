import type { Skip, Warning } from '../discovery/resolveTargets.js';
import { byText } from '../discovery/text.js';

/**
 * Skipped containers or warnings of one kind: one reason (or warning text), task family and
 * container, in any number of tasks and clusters. A fleet where one mistake is repeated in 1,500
 * tasks shows one group of 1,500, not 1,500 rows.
 */
export interface FindingGroup<T extends Skip | Warning> {
  /** The reason of a skip, the text of a warning. */
  what: string;
  family: string;
  container: string;
  count: number;
  clusters: string[];
  revisions: number[];
  services: string[];
  /** The first entries, by cluster and task; `count` says how many there are in all. */
  examples: T[];
}

/** Groups the entries by `what`, family and container: the largest groups first, each with at most `examplesPerGroup` entries. */
export function toFindingGroups<T extends Skip | Warning>(entries: Iterable<T>, what: (entry: T) => string, examplesPerGroup: number): FindingGroup<T>[] {
  const groups = new Map<string, { what: string; family: string; container: string; entries: T[] }>();
  for (const entry of entries) {
    const text = what(entry);
    const key = JSON.stringify([text, entry.family, entry.container]);
    let group = groups.get(key);
    if (group === undefined) {
      group = { what: text, family: entry.family, container: entry.container, entries: [] };
      groups.set(key, group);
    }
    group.entries.push(entry);
  }
  return [...groups.values()]
    .map(({ entries: all, ...group }): FindingGroup<T> => {
      const sorted = [...all].sort((a, b) => byText(a.cluster, b.cluster) || byText(a.taskArn, b.taskArn));
      return {
        ...group,
        count: all.length,
        clusters: [...new Set(all.map((entry) => entry.cluster))].sort(byText),
        revisions: [...new Set(all.flatMap((entry) => (entry.revision === undefined ? [] : [entry.revision])))].sort((a, b) => a - b),
        services: [...new Set(all.flatMap((entry) => (entry.service === undefined ? [] : [entry.service])))].sort(byText),
        examples: sorted.slice(0, examplesPerGroup),
      };
    })
    .sort((a, b) => b.count - a.count || byText(a.family, b.family) || byText(a.container, b.container) || byText(a.what, b.what));
}
