import type { ClusterRef } from './discovery/model.js';
import type { ClusterState } from './round.js';

/**
 * The last state of each cluster, by cluster ARN. States are frozen and replaced, never
 * changed: a snapshot handed to the outputs stays as it was when the round made it.
 */
export class ClusterStates {
  readonly #states = new Map<string, ClusterState>();

  /** Every cluster, in the order they were first seen. */
  list(): readonly ClusterState[] {
    return Object.freeze([...this.#states.values()]);
  }

  get(clusterArn: string): ClusterState | undefined {
    return this.#states.get(clusterArn);
  }

  /** Records a good reading: the cluster's new targets, skips and warnings. */
  set(state: ClusterState): void {
    this.#states.set(state.cluster.arn, Object.freeze({ ...state }));
  }

  /** Records that reading the cluster failed: it keeps its last good targets. Returns the new state, if it had one. */
  markFailed(clusterArn: string, reason: string): ClusterState | undefined {
    const previous = this.#states.get(clusterArn);
    if (previous === undefined) return undefined;
    const failed = Object.freeze({ ...previous, error: reason });
    this.#states.set(clusterArn, failed);
    return failed;
  }

  /** How many clusters of a region have a state. */
  countOf(region: string): number {
    let count = 0;
    for (const state of this.#states.values()) if (state.region === region) count += 1;
    return count;
  }

  /** Records that a region's listing failed: each of its clusters keeps its last good targets. */
  markRegionFailed(region: string, reason: string): void {
    for (const state of this.#states.values()) if (state.region === region) this.markFailed(state.cluster.arn, reason);
  }

  /** Forgets the clusters of a region that its listing no longer returns; returns them. */
  retainListed(region: string, listed: readonly ClusterRef[]): ClusterState[] {
    const listedArns = new Set(listed.map((cluster) => cluster.arn));
    const gone = [...this.#states.values()].filter((state) => state.region === region && !listedArns.has(state.cluster.arn));
    for (const state of gone) this.#states.delete(state.cluster.arn);
    return gone;
  }
}
