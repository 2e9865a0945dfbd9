import type { HostRecord, TaskDefinitionRecord, TaskRecord } from './discovery/model.js';
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

/**
 * Resolutions by task record. The reader hands out the same record object for as long as it
 * holds a task unchanged (a new describe makes a new record), so a task is resolved again only
 * when its record, its task definition or its host changed. Entries go with the records the
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
    if (cached !== undefined && cached.definition === context.definition && sameHost(cached.host, context.host)) return cached;
    const resolved = resolveTaskTargets(context, this.#options);
    const resolution: CachedResolution = Object.freeze({
      definition: context.definition,
      host: context.host,
      targets: freezeAll(resolved.targets.map(toPublishedGroup)),
      skips: freezeAll(resolved.skips),
      warnings: freezeAll(resolved.warnings),
      marked: resolved.marked,
      markerHints: resolved.markerHints.length === 0 ? NONE : Object.freeze(resolved.markerHints),
    });
    this.#resolutions.set(context.task, resolution);
    return resolution;
  }
}
