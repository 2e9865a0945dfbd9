import type { ClusterRef, HostRecord, TaskDefinitionRecord, TaskRecord } from './discovery/model.js';
import { resolveTaskTargets, type ResolveOptions, type Skip, type TaskContext, type Warning } from './discovery/resolveTargets.js';
import { isSameText, toPublishedGroup, type PublishedGroup } from './discovery/targetGroups.js';

/** The published form of one task's resolution. Frozen: it is shared by every round that reuses it. */
export interface TaskResolution {
  readonly targets: readonly PublishedGroup[];
  readonly skips: readonly Skip[];
  readonly warnings: readonly Warning[];
  readonly marked: number;
  readonly markerHints: readonly string[];
}

interface CachedResolution {
  readonly task: TaskRecord;
  readonly definition: TaskDefinitionRecord | undefined;
  readonly host: HostRecord | undefined;
  /** The reader keeps one tags object for as long as a cluster's tags do not change. */
  readonly clusterTags: ClusterRef['tags'];
  readonly resolution: TaskResolution;
  /** The reading of its cluster that last asked for it (see ResolutionCache.endReading). */
  reading: number;
}

/** Hosts are small records that the reader may rebuild each round: equal fields mean the same host. */
function sameHost(a: HostRecord | undefined, b: HostRecord | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  // Each way, so that a field one of them lacks counts; for...in makes no array of keys (a check per task and round).
  for (const key in a) if (a[key as keyof HostRecord] !== b[key as keyof HostRecord]) return false;
  for (const key in b) if (a[key as keyof HostRecord] !== b[key as keyof HostRecord]) return false;
  return true;
}

/** Most tasks have no skip, warning or hint: they all share this one empty list. */
const NONE: readonly never[] = Object.freeze([]);

function freezeAll<T extends object>(items: T[]): readonly T[] {
  if (items.length === 0) return NONE;
  for (const item of items) Object.freeze(item);
  return Object.freeze(items);
}

/** The same groups, in the same order, by text. */
const sameTargets = (a: readonly PublishedGroup[], b: readonly PublishedGroup[]) =>
  a.length === b.length && a.every((group, index) => group.interval === b[index]?.interval && isSameText(group, b[index]));

interface ClusterResolutions {
  /** Counts the cluster's readings. */
  reading: number;
  readonly byTask: Map<string, CachedResolution>;
}

/**
 * The last resolution of each task, by cluster and task ARN. The reader hands out the same
 * record object for as long as it holds a task unchanged (a new describe makes a new record),
 * so a task is resolved again only when its record, its task definition, its host or its
 * cluster's tags changed; and when that gives the groups it had (a refresh that found nothing
 * new), they are the very same objects, so that the outputs see nothing changed. Tasks that a
 * cluster's reading no longer has are forgotten at its end (endReading).
 */
export class ResolutionCache {
  readonly #options: ResolveOptions;
  readonly #clusters = new Map<string, ClusterResolutions>();

  constructor(options: ResolveOptions) {
    this.#options = options;
  }

  resolve(context: TaskContext): TaskResolution {
    let cluster = this.#clusters.get(context.cluster.arn);
    if (cluster === undefined) {
      cluster = { reading: 0, byTask: new Map() };
      this.#clusters.set(context.cluster.arn, cluster);
    }
    const cached = cluster.byTask.get(context.task.arn);
    if (
      cached !== undefined &&
      cached.task === context.task &&
      cached.definition === context.definition &&
      cached.clusterTags === context.cluster.tags &&
      sameHost(cached.host, context.host)
    ) {
      cached.reading = cluster.reading;
      return cached.resolution;
    }
    const resolved = resolveTaskTargets(context, this.#options);
    const targets = resolved.targets.map(toPublishedGroup);
    const resolution: TaskResolution = Object.freeze({
      targets: cached !== undefined && sameTargets(cached.resolution.targets, targets) ? cached.resolution.targets : freezeAll(targets),
      skips: freezeAll(resolved.skips),
      warnings: freezeAll(resolved.warnings),
      marked: resolved.marked,
      markerHints: resolved.markerHints.length === 0 ? NONE : Object.freeze(resolved.markerHints),
    });
    cluster.byTask.set(context.task.arn, {
      task: context.task,
      definition: context.definition,
      host: context.host,
      clusterTags: context.cluster.tags,
      resolution,
      reading: cluster.reading,
    });
    return resolution;
  }

  /** A reading of the cluster has resolved all its tasks: forgets the tasks it did not ask for. */
  endReading(clusterArn: string): void {
    const cluster = this.#clusters.get(clusterArn);
    if (cluster === undefined) return;
    const { byTask, reading } = cluster;
    // forEach, not for...of over entries: no pair array for each of thousands of tasks every round.
    byTask.forEach((cached, arn) => {
      if (cached.reading !== reading) byTask.delete(arn);
    });
    cluster.reading += 1;
  }

  /** Forgets every cluster but these (the others are gone). */
  retainClusters(clusterArns: ReadonlySet<string>): void {
    for (const arn of this.#clusters.keys()) if (!clusterArns.has(arn)) this.#clusters.delete(arn);
  }
}
