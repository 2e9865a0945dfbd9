import { ChangeLog } from './changeLog.js';
import type { ClusterRef } from './discovery/model.js';
import type { Logger } from './log.js';
import type { RegionReader } from './round.js';

/**
 * Every cluster of an account's region gone at once is far more likely an odd answer than a
 * fact: one such listing after a round that had clusters is not believed, the next one in a row is.
 */
export class EmptyListingDoubt {
  /** Readers (account/region) whose last listing answered no cluster at all, after one that listed some. */
  readonly #doubted = new Set<string>();

  /** Throws (so that the reader keeps its clusters) when `listed` is a first empty answer where `known` clusters were. */
  check(reader: Pick<RegionReader, 'region' | 'account'>, listed: readonly ClusterRef[], known: number): void {
    const key = `${reader.account ?? ''}/${reader.region}`;
    if (listed.length > 0 || known === 0 || this.#doubted.has(key)) {
      this.#doubted.delete(key);
      return;
    }
    this.#doubted.add(key);
    throw new Error(`ListClusters answered no cluster at all, where the last good round had ${known}; not believed until the next answer agrees`);
  }
}

/** Names or ARNs of the clusters setting that no region lists: probably a typo; each said once. */
export class UnknownClusterNames {
  readonly #said = new ChangeLog();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** The names no listing has; none when a listing failed (nothing to conclude then). */
  find(names: readonly string[], listed: readonly ClusterRef[], listingFailed: boolean): string[] {
    if (listingFailed) return [];
    const unknown = names.filter((name) => !listed.some((cluster) => cluster.name === name || cluster.arn === name));
    for (const name of this.#said.update(unknown.map((name) => [name, name]))) {
      this.#logger.warn(`cluster "${name}" of the clusters setting is not in any region's cluster list`, { cluster: name });
    }
    return unknown;
  }
}
