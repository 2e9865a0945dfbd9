import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Which AWS calls go first when a bucket makes calls wait: those of the cluster that was listed
 * first. Clusters are read concurrently, and with a fair queue they would all finish at the end
 * of a cold round; in this order they finish one after the other, so the first targets are
 * published early and each cluster's resolution overlaps the calls of the next.
 * Lower goes first; calls outside any cluster (ListClusters) have priority 0.
 */
const priorities = new AsyncLocalStorage<number>();

export function withCallPriority<T>(priority: number, run: () => Promise<T>): Promise<T> {
  return priorities.run(priority, run);
}

export function currentCallPriority(): number {
  return priorities.getStore() ?? 0;
}
