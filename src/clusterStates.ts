import { accountOfArn, type ClusterRef } from './discovery/model.js';
import type { ClusterState } from './round.js';

/**
 * The clusters of one reader: a region, and an account when it is known. With the process's own
 * credentials the account may not be known yet; there is one account then, and the region says it.
 */
export interface ReaderScope {
  readonly region: string;
  readonly account?: string | undefined;
}

/** Whether a cluster's state is one of the reader's: by region, and by the account of its ARN. */
export const isInScope = (state: ClusterState, scope: ReaderScope): boolean =>
  state.region === scope.region && (scope.account === undefined || accountOfArn(state.cluster.arn) === scope.account);

/**
 * The last state of each cluster, by cluster ARN (which names its account, region and name: the
 * same name in two accounts is two clusters). States are frozen and replaced, never changed: a
 * snapshot handed to the outputs stays as it was when the round made it.
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

  /** How many clusters of a reader have a state. */
  countOf(scope: ReaderScope): number {
    let count = 0;
    for (const state of this.#states.values()) if (isInScope(state, scope)) count += 1;
    return count;
  }

  /** Records that a reader's listing failed: each of its clusters keeps its last good targets. */
  markRegionFailed(scope: ReaderScope, reason: string): void {
    for (const state of this.#states.values()) if (isInScope(state, scope)) this.markFailed(state.cluster.arn, reason);
  }

  /** Forgets the clusters of a reader that its listing no longer returns; returns them. */
  retainListed(scope: ReaderScope, listed: readonly ClusterRef[]): ClusterState[] {
    const listedArns = new Set(listed.map((cluster) => cluster.arn));
    const gone = [...this.#states.values()].filter((state) => isInScope(state, scope) && !listedArns.has(state.cluster.arn));
    for (const state of gone) this.#states.delete(state.cluster.arn);
    return gone;
  }
}
