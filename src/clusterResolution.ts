import type { Skip, Warning } from './discovery/resolveTargets.js';
import type { PublishedGroup } from './discovery/targetGroups.js';
import type { ResolutionCache } from './resolutionCache.js';
import type { ClusterReading } from './round.js';
import { forEachInSlices, type TimeSlicing } from './timeSlices.js';

/** What a cluster's reading resolves to: the parts of its state, and the tasks to describe again. */
export interface ResolvedReading {
  targets: readonly PublishedGroup[];
  skips: readonly Skip[];
  warnings: readonly Warning[];
  markedContainers: number;
  markerHints: Readonly<Record<string, number>>;
  /** RUNNING tasks whose bindings or address ECS has not filled in yet: described again, like PENDING ones. */
  incomplete: ReadonlySet<string>;
}

/**
 * Resolves every task of a reading (through the cache: unchanged tasks cost nothing), in slices
 * (DEFAULT_TIME_SLICING unless told), then lets the cache forget the tasks the cluster no longer has.
 */
export async function resolveReading(resolutions: ResolutionCache, reading: ClusterReading, timeSlicing?: TimeSlicing): Promise<ResolvedReading> {
  const targets: PublishedGroup[] = [];
  const skips: Skip[] = [];
  const warnings: Warning[] = [];
  const incomplete = new Set<string>();
  let markedContainers = 0;
  const markerHints: Record<string, number> = {};
  // Resolving thousands of tasks at once would hold the event loop: paced calls would go out late.
  await forEachInSlices(
    reading.tasks,
    (context) => {
      const resolution = resolutions.resolve(context);
      // Most tasks have one target and no skip, warning or hint: nothing is spread for them. By
      // index: at a few thousand tasks a round this runs mostly unoptimized, where for...of makes
      // an iterator and a result object per list and item.
      const resolved = resolution.targets;
      for (let index = 0; index < resolved.length; index++) targets.push(resolved[index] as PublishedGroup);
      if (resolution.skips.length > 0) {
        skips.push(...resolution.skips);
        for (const skip of resolution.skips) if (skip.transient) incomplete.add(skip.taskArn);
      }
      if (resolution.warnings.length > 0) warnings.push(...resolution.warnings);
      markedContainers += resolution.marked;
      if (resolution.markerHints.length > 0) for (const hint of resolution.markerHints) markerHints[hint] = (markerHints[hint] ?? 0) + 1;
    },
    timeSlicing,
  );
  resolutions.endReading(reading.cluster.arn);
  return {
    targets: Object.freeze(targets),
    skips: Object.freeze(skips),
    warnings: Object.freeze(warnings),
    markedContainers,
    markerHints: Object.freeze(markerHints),
    incomplete,
  };
}
