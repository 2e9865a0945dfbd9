import type { Skip, Warning } from './discovery/resolveTargets.js';
import type { PublishedGroup } from './discovery/targetGroups.js';
import type { ResolutionCache } from './resolutionCache.js';
import type { ClusterReading } from './round.js';

/** The longest stretch that resolving a cluster holds the event loop before it lets other work run. */
const RESOLUTION_SLICE_MS = 10;

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

/** Resolves every task of a reading (through the cache: unchanged tasks cost nothing), in slices. */
export async function resolveReading(resolutions: ResolutionCache, reading: ClusterReading): Promise<ResolvedReading> {
  const targets: PublishedGroup[] = [];
  const skips: Skip[] = [];
  const warnings: Warning[] = [];
  const incomplete = new Set<string>();
  let markedContainers = 0;
  const markerHints: Record<string, number> = {};
  let sliceStartedAt = performance.now();
  for (const context of reading.tasks) {
    // Resolving thousands of tasks would hold the event loop: paced calls would go out late.
    if (performance.now() - sliceStartedAt > RESOLUTION_SLICE_MS) {
      await new Promise<void>((resolveSlice) => setImmediate(resolveSlice));
      sliceStartedAt = performance.now();
    }
    const resolution = resolutions.resolve(context);
    targets.push(...resolution.targets);
    skips.push(...resolution.skips);
    warnings.push(...resolution.warnings);
    for (const skip of resolution.skips) if (skip.transient) incomplete.add(skip.taskArn);
    markedContainers += resolution.marked;
    for (const hint of resolution.markerHints) markerHints[hint] = (markerHints[hint] ?? 0) + 1;
  }
  return {
    targets: Object.freeze(targets),
    skips: Object.freeze(skips),
    warnings: Object.freeze(warnings),
    markedContainers,
    markerHints: Object.freeze(markerHints),
    incomplete,
  };
}
