import type { Skip, Warning } from './discovery/resolveTargets.js';
import type { LogFields, Logger } from './log.js';
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

/** Skips or warnings of one kind: the same reason (or message), task family and container, in any number of tasks. */
interface FindingGroup<T> {
  first: T;
  count: number;
  region: string;
}

function groupFindings<T extends Skip | Warning>(states: readonly ClusterState[], pick: (state: ClusterState) => readonly T[], what: (entry: T) => string) {
  const groups = new Map<string, FindingGroup<T>>();
  for (const state of states) {
    for (const entry of pick(state)) {
      const key = `${what(entry)}|${entry.family}|${entry.container}`;
      const group = groups.get(key);
      if (group === undefined) groups.set(key, { first: entry, count: 1, region: state.region });
      else {
        group.count += 1;
        // The example is the same whatever the order of the tasks.
        if (entry.taskArn < group.first.taskArn) group.first = entry;
      }
    }
  }
  return groups;
}

const owner = (entry: Skip | Warning) =>
  `${entry.family}${entry.revision === undefined ? '' : `:${entry.revision}`}${entry.service === undefined ? '' : ` (service ${entry.service})`}`;

const fieldsOf = (entry: Skip | Warning, count: number, region: string): LogFields => ({
  family: entry.family,
  revision: entry.revision,
  service: entry.service,
  container: entry.container,
  count,
  cluster: entry.cluster,
  region,
  example_task: entry.taskArn,
});

/**
 * Logs the skipped containers and the warnings of the clusters, grouped: one line per reason
 * (or warning), task family and container, with the count and one example task, when such a
 * group appears, not one line per task each round.
 */
export class FindingsLog {
  readonly #logger: Logger;
  readonly #skips = new ChangeLog();
  readonly #warnings = new ChangeLog();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  log(states: readonly ClusterState[]): void {
    const skips = groupFindings(states, (state) => state.skips, (skip) => skip.reason);
    for (const [key] of this.#skips.changed([...skips.keys()].map((key) => [key, key]))) {
      const { first, count, region } = skips.get(key) as FindingGroup<Skip>;
      const tasks = count === 1 ? `of task ${first.taskArn}` : `in ${count} tasks, e.g. ${first.taskArn}`;
      this.#logger.warn(`skipped container ${first.container} of ${owner(first)} ${tasks} (cluster ${first.cluster}): ${first.reason}: ${first.detail}`, {
        reason: first.reason,
        ...fieldsOf(first, count, region),
        detail: first.detail,
      });
    }
    const warnings = groupFindings(states, (state) => state.warnings, (warning) => warning.message);
    for (const [key] of this.#warnings.changed([...warnings.keys()].map((key) => [key, key]))) {
      const { first, count, region } = warnings.get(key) as FindingGroup<Warning>;
      const tasks = count === 1 ? `of task ${first.taskArn}` : `in ${count} tasks, e.g. ${first.taskArn}`;
      this.#logger.warn(`container ${first.container} of ${owner(first)} ${tasks} (cluster ${first.cluster}): ${first.message}`, {
        ...fieldsOf(first, count, region),
        warning: first.message,
      });
    }
  }
}
