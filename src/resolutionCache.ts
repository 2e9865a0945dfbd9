import type { ClusterRef, HostRecord, TaskDefinitionRecord, TaskRecord } from './discovery/model.js';
import { resolveTaskTargets, type ResolveOptions, type Skip, type TaskContext, type Warning } from './discovery/resolveTargets.js';
import { toPublishedGroup, type PublishedGroup } from './discovery/targetGroups.js';

/** The published form of one task's resolution. Frozen: it is shared by every round that reuses it. */
export interface TaskResolution {
  readonly targets: readonly PublishedGroup[];
  readonly skips: readonly Skip[];
  readonly warnings: readonly Warning[];
  readonly marked: number;
  readonly markerHints: readonly string[];
}

interface CachedResolution extends TaskResolution {
  readonly definition: TaskDefinitionRecord | undefined;
  readonly host: HostRecord | undefined;
  /** The reader keeps one tags object for as long as a cluster's tags do not change. */
  readonly clusterTags: ClusterRef['tags'];
}

/** Hosts are small records that the reader may rebuild each round: equal fields mean the same host. */
function sameHost(a: HostRecord | undefined, b: HostRecord | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof HostRecord>;
  return [...keys].every((key) => a[key] === b[key]);
}

function freezeAll<T extends object>(items: T[]): readonly T[] {
  for (const item of items) Object.freeze(item);
  return Object.freeze(items);
}

/**
 * Resolutions by task record. The reader hands out the same record object for as long as it
 * holds a task unchanged (a new describe makes a new record), so a task is resolved again only
 * when its record, its task definition, its host or its cluster's tags changed. Entries go with the records the
 * reader forgets.
 */
export class ResolutionCache {
  readonly #options: ResolveOptions;
  readonly #resolutions = new WeakMap<TaskRecord, CachedResolution>();

  constructor(options: ResolveOptions) {
    this.#options = options;
  }

  resolve(context: TaskContext): TaskResolution {
    const cached = this.#resolutions.get(context.task);
    if (
      cached !== undefined &&
      cached.definition === context.definition &&
      cached.clusterTags === context.cluster.tags &&
      sameHost(cached.host, context.host)
    ) {
      return cached;
    }
    const resolved = resolveTaskTargets(context, this.#options);
    const resolution: CachedResolution = Object.freeze({
      definition: context.definition,
      host: context.host,
      clusterTags: context.cluster.tags,
      targets: freezeAll(resolved.targets.map(toPublishedGroup)),
      skips: freezeAll(resolved.skips),
      warnings: freezeAll(resolved.warnings),
      marked: resolved.marked,
      markerHints: Object.freeze(resolved.markerHints),
    });
    this.#resolutions.set(context.task, resolution);
    return resolution;
  }
}
