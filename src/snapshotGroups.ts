import { mergeGroupsByInterval, toGroupsByInterval, type GroupsByInterval, type PublishedGroup } from './discovery/targetGroups.js';
import type { ClusterState } from './round.js';

interface SortedCluster {
  readonly targets: readonly PublishedGroup[];
  readonly groups: GroupsByInterval;
}

/** The same objects in the same order. By index: over every target of a cluster each round, mostly unoptimized, where a callback per item costs more. */
function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

/**
 * The groups of the snapshots, from the clusters' targets: each cluster's sorted once and kept
 * while its targets are the same objects (the resolution cache hands back the same groups for
 * tasks that did not change), and the whole merged from them, or kept as it was when no
 * cluster changed. A steady round then costs one pass over the targets, and hands the outputs
 * the very lists they had; a cluster published as soon as it is read costs the sort of that
 * cluster and a merge, not the sort of every target read so far.
 */
export class SnapshotGroups {
  readonly #byCluster = new Map<string, SortedCluster>();
  #last: { parts: readonly GroupsByInterval[]; groups: GroupsByInterval } | undefined;

  of(states: readonly ClusterState[]): GroupsByInterval {
    const parts = states.map((state) => this.#sorted(state));
    for (const arn of this.#byCluster.keys()) if (!states.some((state) => state.cluster.arn === arn)) this.#byCluster.delete(arn);
    if (this.#last !== undefined && sameItems(this.#last.parts, parts)) return this.#last.groups;
    const groups = parts.length === 1 ? (parts[0] as GroupsByInterval) : mergeGroupsByInterval(parts);
    this.#last = { parts, groups };
    return groups;
  }

  #sorted(state: ClusterState): GroupsByInterval {
    const known = this.#byCluster.get(state.cluster.arn);
    if (known !== undefined && sameItems(known.targets, state.targets)) return known.groups;
    const groups = toGroupsByInterval(state.targets);
    this.#byCluster.set(state.cluster.arn, { targets: state.targets, groups });
    return groups;
  }
}
