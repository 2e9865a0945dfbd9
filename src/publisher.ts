import { mergeGroupsByInterval, toGroupsByInterval, type PublishedGroup } from './discovery/targetGroups.js';
import { describeError } from './errors.js';
import type { Logger } from './log.js';
import type { Snapshot } from './round.js';

export interface PublisherOptions {
  /** Hands a snapshot to the outputs (HTTP SD, files); rejects when one of them failed. */
  publish: (snapshot: Snapshot) => Promise<void>;
  /** The static targets to serve with the ECS ones. @default none */
  staticGroups?: () => readonly PublishedGroup[];
  logger: Logger;
}

/**
 * Publishes what the rounds found together with the static targets, and publishes again when
 * only the static targets changed, without waiting for a round. Publications run one at a time,
 * in order; a change while one runs is published right after it.
 */
export class Publisher {
  readonly #options: PublisherOptions;
  /** The last snapshot of the rounds: what a change of the static targets is published with. */
  #last: Snapshot | undefined;
  #running: Promise<void> = Promise.resolve();

  constructor(options: PublisherOptions) {
    this.#options = options;
  }

  /** A round's (or a part of a round's) snapshot, with the static targets; rejects when an output failed. */
  publishRound(snapshot: Snapshot): Promise<void> {
    this.#last = snapshot;
    return this.#enqueue(() => this.#options.publish(this.#withStatic(snapshot)));
  }

  /** The last snapshot again, with the static targets as they are now; failures are logged. */
  republish(): Promise<void> {
    const last = this.#last;
    if (last === undefined) return this.#running; // Nothing published yet: the first round will include them.
    return this.#enqueue(() => this.#options.publish(this.#withStatic(last))).catch((error: unknown) => {
      this.#options.logger.error('publishing the changed static targets failed', { error: describeError(error) });
    });
  }

  #enqueue(publication: () => Promise<void>): Promise<void> {
    // Each waits for the one before, whether that one failed or not.
    const next = this.#running.then(publication);
    this.#running = next.catch(() => {});
    return next;
  }

  #withStatic(snapshot: Snapshot): Snapshot {
    const groups = this.#options.staticGroups?.() ?? [];
    if (groups.length === 0) return snapshot;
    // The round's groups are sorted already: merged with the static ones, not sorted again.
    return Object.freeze({ ...snapshot, groups: mergeGroupsByInterval([snapshot.groups, toGroupsByInterval(groups)]) });
  }
}
