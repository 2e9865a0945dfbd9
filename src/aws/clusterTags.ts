import { DescribeClustersCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { toTagRecord, type ClusterRef } from '../discovery/model.js';
import { isAbort } from '../abort.js';
import { withCallOptions } from '../callOptions.js';
import { AwsError, describeError } from '../errors.js';
import { checkDescribeClusters } from './answerShapes.js';

/** AWS's limit of clusters per DescribeClusters call. */
const CLUSTER_BATCH = 100;

interface CachedTags {
  /** The same object for as long as the tags do not change: resolutions are reused while it is. */
  readonly tags: Readonly<Record<string, string>>;
  readonly describedAt: number;
}

const sameTags = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([key, value]) => b[key] === value);

export interface ClusterTagsOptions {
  ecs: ECSClient;
  /** Each cluster's tags are described again once this old; 0 never. */
  refreshMs: number;
  now?: () => number;
}

/**
 * The tags of a reader's clusters (`labels.clusterTags`): one DescribeClusters call with
 * `include: TAGS` per 100 clusters whose tags are not known or older than the task refresh
 * period. A failed call keeps the tags known so far, and is made again next round; a cluster
 * whose tags were never read fails the listing, so that its targets never change labels back
 * and forth.
 */
export class ClusterTags {
  readonly #ecs: ECSClient;
  readonly #refreshMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, CachedTags>();

  constructor({ ecs, refreshMs, now = Date.now }: ClusterTagsOptions) {
    this.#ecs = ecs;
    this.#refreshMs = refreshMs;
    this.#now = now;
  }

  /** The clusters, each with its tags; throws (AwsError) when the tags of one cannot be had. */
  async tag(clusters: readonly ClusterRef[], signal?: AbortSignal): Promise<ClusterRef[]> {
    const now = this.#now();
    const listed = new Set(clusters.map((cluster) => cluster.arn));
    for (const arn of this.#cache.keys()) if (!listed.has(arn)) this.#cache.delete(arn);
    const due = clusters
      .map((cluster) => cluster.arn)
      .filter((arn) => {
        const cached = this.#cache.get(arn);
        return cached === undefined || (this.#refreshMs > 0 && now - cached.describedAt >= this.#refreshMs);
      });
    const batches: string[][] = [];
    for (let start = 0; start < due.length; start += CLUSTER_BATCH) batches.push(due.slice(start, start + CLUSTER_BATCH));
    await Promise.all(batches.map((batch) => this.#describe(batch, signal)));
    return clusters.map((cluster) => ({ ...cluster, tags: this.#cache.get(cluster.arn)?.tags ?? {} }));
  }

  async #describe(arns: string[], signal?: AbortSignal): Promise<void> {
    let answered: Map<string, Record<string, string>>;
    try {
      const output = await this.#ecs.send(new DescribeClustersCommand(withCallOptions({ clusters: arns, include: ['TAGS'] }, { signal })));
      answered = new Map(checkDescribeClusters(output).map((cluster) => [cluster.clusterArn as string, toTagRecord(cluster.tags)]));
    } catch (error) {
      if (isAbort(error)) throw error;
      // Stale tags are better than labels that come and go: keep them, and ask again next round.
      if (arns.every((arn) => this.#cache.has(arn))) return;
      throw error instanceof AwsError ? error : new AwsError(`DescribeClusters failed: ${describeError(error)}`, { cause: error });
    }
    const describedAt = this.#now();
    for (const arn of arns) {
      // A cluster listed a moment ago and not described now (a failure entry) has no tags to give.
      const tags = answered.get(arn) ?? {};
      const cached = this.#cache.get(arn);
      this.#cache.set(arn, { tags: cached !== undefined && sameTags(cached.tags, tags) ? cached.tags : Object.freeze(tags), describedAt });
    }
  }
}
