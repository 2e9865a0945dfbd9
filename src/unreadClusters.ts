import { ChangeLog } from './changeLog.js';
import { accountOfArn, type ClusterRef } from './discovery/model.js';
import type { Logger } from './log.js';
import { placeOf } from './readerOutcomes.js';
import type { RegionReader, UnreadCluster } from './round.js';

/**
 * Listed clusters that have no state yet: never read, and nothing for them in the files of an
 * earlier run. They are waited for a few rounds; past that they are published without targets,
 * said once (and again when the reason changes).
 */
export class UnreadClusters {
  readonly #byArn = new Map<string, UnreadCluster>();
  readonly #said = new ChangeLog();
  readonly #logger: Logger;
  readonly #patience: number;

  /** @param patience rounds after which an unread cluster is said to be published without targets */
  constructor(logger: Logger, patience = 3) {
    this.#logger = logger;
    this.#patience = patience;
  }

  /** Another round in which the cluster could not be read; `account` when texts name accounts. */
  failed(cluster: ClusterRef, region: string, account: string | undefined, reason: string): void {
    const rounds = (this.#byArn.get(cluster.arn)?.rounds ?? 0) + 1;
    this.#byArn.set(cluster.arn, { name: cluster.name, region, ...(account !== undefined && { account }), rounds, reason });
  }

  /** The cluster was read: it is unread no more. */
  read(clusterArn: string): void {
    this.#byArn.delete(clusterArn);
  }

  /** The reader listed (and selected) these clusters: its unread ones that are not among them are gone. */
  retainListed(reader: Pick<RegionReader, 'region' | 'account'>, listedArns: ReadonlySet<string>): void {
    for (const [arn, unread] of this.#byArn) {
      const ofReader = unread.region === reader.region && (reader.account === undefined || accountOfArn(arn) === reader.account);
      if (ofReader && !listedArns.has(arn)) this.#byArn.delete(arn);
    }
  }

  /** Every unread cluster, after a warning for each one past the patience whose reason is new. */
  report(): UnreadCluster[] {
    const unread = [...this.#byArn.values()];
    const overdue = unread.filter((cluster) => cluster.rounds >= this.#patience);
    const byKey = new Map(overdue.map((cluster) => [`${cluster.account ?? ''}/${cluster.region}/${cluster.name}`, cluster]));
    for (const [key] of this.#said.changed([...byKey].map(([key, cluster]) => [key, cluster.reason]))) {
      const cluster = byKey.get(key);
      if (cluster === undefined) continue;
      this.#logger.warn(
        `cluster ${cluster.name} (${placeOf(cluster.region, cluster.account, true)}) has not been read in ${cluster.rounds} rounds and had no earlier targets: published without targets`,
        { cluster: cluster.name, region: cluster.region, account: cluster.account, error: cluster.reason },
      );
    }
    return unread;
  }
}
