import type { Skip, Warning } from './discovery/resolveTargets.js';
import type { Logger } from './log.js';
import type { ClusterState } from './round.js';

/** Remembers what was said last time, so that each thing is said once, and again only when it changes. */
export class ChangeLog {
  #previous = new Map<string, string>();

  /** Returns the texts that are new or changed since the last call. */
  update(entries: Iterable<[key: string, text: string]>): string[] {
    return this.changed(entries).map(([, text]) => text);
  }

  /** Returns the entries that are new or changed since the last call. */
  changed(entries: Iterable<[key: string, text: string]>): [key: string, text: string][] {
    const current = new Map(entries);
    const changed = [...current].filter(([key, text]) => this.#previous.get(key) !== text);
    this.#previous = current;
    return changed;
  }
}

const containerKey = (entry: Skip | Warning) => `${entry.cluster}|${entry.taskArn}|${entry.container}`;

/** Logs each skipped container and each warning of the clusters once, and again only when it changes. */
export class FindingsLog {
  readonly #logger: Logger;
  readonly #skips = new ChangeLog();
  readonly #warnings = new ChangeLog();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  log(states: readonly ClusterState[]): void {
    const skipTexts = this.#skips.update(
      states
        .flatMap((state) => state.skips)
        .map((skip) => [
          containerKey(skip),
          `skipped container ${skip.container} of task ${skip.taskArn} (cluster ${skip.cluster}): ${skip.reason}: ${skip.detail}`,
        ]),
    );
    const warningTexts = this.#warnings.update(
      states
        .flatMap((state) => state.warnings)
        .map((warning) => [
          `${containerKey(warning)}|${warning.message}`,
          `container ${warning.container} of task ${warning.taskArn} (cluster ${warning.cluster}): ${warning.message}`,
        ]),
    );
    for (const text of [...skipTexts, ...warningTexts]) this.#logger.warn(text);
  }
}
