import { LRUCache } from 'lru-cache';
import { withRuntimeDataOf, type TaskRecord } from './model.js';

/**
 * What ECS task state change events mean for discovery, and in which order they count.
 * EventBridge delivers an event at least once, in no promised order, sometimes late: ECS's own
 * `version` of the task (in the event's detail, and in DescribeTasks' answer) says which of two
 * states is the newer, and the same version twice is the same state.
 */

/** Statuses of a task on its way out (ECS's task lifecycle): its targets go. */
const LEAVING = new Set(['DEACTIVATING', 'STOPPING', 'DEPROVISIONING', 'STOPPED', 'DELETED']);

/** running: scrape it; stopped: scrape it no more; starting: not yet (its RUNNING event comes later). */
export type TaskState = 'running' | 'stopped' | 'starting';

/**
 * A task's state for discovery. A task that ECS has been told to stop is gone already, as in a
 * round, which lists tasks whose desired status is RUNNING only.
 */
export function toTaskState(lastStatus: string | undefined, desiredStatus: string | undefined): TaskState {
  if (desiredStatus === 'STOPPED' || (lastStatus !== undefined && LEAVING.has(lastStatus))) return 'stopped';
  return lastStatus === 'RUNNING' ? 'running' : 'starting';
}

/**
 * The newest version seen of each task (described, or applied from an event), for the most
 * recent tasks only: a task forgotten here is one whose events stopped long ago, and should a
 * very late one come, the next full round repairs it.
 */
export class TaskVersions {
  readonly #versions: LRUCache<string, number>;

  /** @param max tasks remembered @default 100_000 */
  constructor(max = 100_000) {
    this.#versions = new LRUCache({ max });
  }

  get size(): number {
    return this.#versions.size;
  }

  /** No news: this version, or a newer one, has been seen (a duplicate, or a late event). */
  isStale(taskArn: string, version: number): boolean {
    const seen = this.#versions.get(taskArn);
    return seen !== undefined && version <= seen;
  }

  /** A newer version than this one has been seen: this state must not overwrite it. */
  isOutdated(taskArn: string, version: number): boolean {
    const seen = this.#versions.get(taskArn);
    return seen !== undefined && version < seen;
  }

  /** Remembers a version seen; an older one than the newest seen changes nothing. */
  note(taskArn: string, version: number): void {
    const seen = this.#versions.get(taskArn);
    if (seen === undefined || version > seen) this.#versions.set(taskArn, version);
  }
}

/** Of several changes of one task (in one batch of messages), the newest; the others are stale. */
export function newestPerTask<T extends { taskArn: string; version: number }>(changes: readonly T[]): { newest: T[]; stale: T[] } {
  const byTask = new Map<string, T>();
  for (const change of changes) {
    const kept = byTask.get(change.taskArn);
    if (kept === undefined || change.version > kept.version) byTask.set(change.taskArn, change);
  }
  const newest = [...byTask.values()];
  const chosen = new Set(newest);
  return { newest, stale: changes.filter((change) => !chosen.has(change)) };
}

/**
 * A running task as an event describes it, completed with what the event lacks from its last
 * known state: task state change events carry neither the task's health status nor its tags
 * (AWS documents the first; DescribeTasks answers both), and ECS never takes runtime data
 * (bindings, addresses) back from a running task. What the event does say wins.
 */
export function withKnownDataOf(next: TaskRecord, known: TaskRecord | undefined): TaskRecord {
  const merged = withRuntimeDataOf(next, known);
  if (known === undefined || known.arn !== next.arn) return merged;
  return {
    ...merged,
    ...(merged.healthStatus === undefined && known.healthStatus !== undefined && { healthStatus: known.healthStatus }),
    ...(Object.keys(merged.tags).length === 0 && { tags: known.tags }),
  };
}
