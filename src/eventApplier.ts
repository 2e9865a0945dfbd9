import type { EventMessage, TaskChange } from './aws/eventMessages.js';
import { Coalescer } from './coalescer.js';
import { accountOfArn, clusterNameOf, type ClusterRef, type TaskRecord } from './discovery/model.js';
import { newestPerTask, type TaskVersions } from './discovery/taskEvents.js';
import type { Discoverer } from './discoverer.js';
import { describeError } from './errors.js';
import type { Logger } from './log.js';
import { placeOf } from './readerOutcomes.js';

/** What applying events needs of a region's AWS reader (EcsReader). */
export interface EventReader {
  readonly region: string;
  /** The account it reads; known from the start when it reads through a role. */
  readonly account?: string | undefined;
  /** The IAM role it reads through (`aws.roles`); undefined: the process's own credentials. */
  readonly role?: string | undefined;
  applyTaskStates(cluster: ClusterRef, running: readonly TaskRecord[], stopped: readonly string[], signal?: AbortSignal): Promise<void>;
  learnContainerInstance(containerInstanceArn: string, instanceId: string): void;
}

/**
 * How a message ended, the outcome label of the events metric. applied: its change is in the
 * targets; stale: a newer state of its task was known already (a duplicate, a late or reordered
 * event); ignored: not about a cluster this discoverer reads (yet), a task not running yet, or
 * another kind of event; unreadable: not an event discovery can read; failed: what its task
 * needs could not be read, so it is left in the queue, to come again.
 */
export const EVENT_OUTCOMES = ['applied', 'stale', 'ignored', 'unreadable', 'failed'] as const;
export type EventOutcome = (typeof EVENT_OUTCOMES)[number];

export interface EventApplierOptions {
  readers: readonly EventReader[];
  discoverer: Pick<Discoverer, 'hasCluster' | 'refreshCluster' | 'publishLatest'>;
  /** Shared with the readers: what they describe counts too. */
  versions: TaskVersions;
  logger: Logger;
  /** Publications after a burst of events: this long after the last change... @default 100 */
  publishQuietMs?: number;
  /** ...and no later than this after the first. @default 500 */
  publishMaxDelayMs?: number;
}

interface Pending {
  index: number;
  change: TaskChange;
  taskArn: string;
  version: number;
}

/**
 * Applies what events say to the clusters' states: each cluster's running and stopped tasks go
 * to its reader's caches, the cluster is resolved again from them (no ListTasks, no
 * DescribeTasks: the event carries the task), and the outputs are published soon after, once
 * for a burst. A change older than what is known (ECS's task version) is no news.
 */
export class EventApplier {
  readonly #options: EventApplierOptions;
  readonly #publication: Coalescer;

  constructor(options: EventApplierOptions) {
    this.#options = options;
    this.#publication = new Coalescer({
      run: () => options.discoverer.publishLatest(),
      quietMs: options.publishQuietMs ?? 100,
      maxDelayMs: options.publishMaxDelayMs ?? 500,
      // The next round's publication says so too, and tries again.
      onError: (error) => options.logger.warn('events: publishing the changes failed', { error: describeError(error) }),
    });
  }

  /** Applies a batch of messages, in order; resolves with how each ended (never rejects). */
  async apply(messages: readonly EventMessage[], signal?: AbortSignal): Promise<EventOutcome[]> {
    const { discoverer, versions } = this.#options;
    const outcomes: EventOutcome[] = messages.map(() => 'ignored');
    const byCluster = new Map<string, { reader: EventReader; cluster: ClusterRef; changes: Pending[] }>();
    messages.forEach((message, index) => {
      if (message.kind === 'unreadable') outcomes[index] = 'unreadable';
      if (message.kind !== 'task' && message.kind !== 'containerInstance') return;
      // A cluster is read by the reader of its region and, with several accounts (aws.roles), of its account.
      const account = accountOfArn(message.clusterArn);
      const reader = this.#options.readers.find((candidate) => candidate.region === message.region && (candidate.account === undefined || candidate.account === account));
      if (reader === undefined || !discoverer.hasCluster(message.clusterArn)) return;
      if (message.kind === 'containerInstance') {
        if (message.ec2InstanceId === undefined) return;
        reader.learnContainerInstance(message.containerInstanceArn, message.ec2InstanceId);
        outcomes[index] = 'applied';
        return;
      }
      if (message.state === 'starting') return;
      if (versions.isStale(message.taskArn, message.version)) {
        outcomes[index] = 'stale';
        return;
      }
      const group = byCluster.get(message.clusterArn) ?? {
        reader,
        cluster: { arn: message.clusterArn, name: clusterNameOf(message.clusterArn) },
        changes: [],
      };
      group.changes.push({ index, change: message, taskArn: message.taskArn, version: message.version });
      byCluster.set(message.clusterArn, group);
    });

    const applied = await Promise.all([...byCluster.values()].map((group) => this.#applyToCluster(group, outcomes, signal)));
    if (applied.includes(true)) this.#publication.request();
    return outcomes;
  }

  /** Publishes at once what is waiting, and waits for it (when stopping). */
  async flush(): Promise<void> {
    await this.#publication.flush();
    this.#publication.stop();
  }

  async #applyToCluster(
    { reader, cluster, changes }: { reader: EventReader; cluster: ClusterRef; changes: Pending[] },
    outcomes: EventOutcome[],
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const { newest, stale } = newestPerTask(changes);
    for (const { index } of stale) outcomes[index] = 'stale';
    const running = newest.filter(({ change }) => change.state === 'running').map(({ change }) => change.task);
    const stopped = newest.filter(({ change }) => change.state === 'stopped').map(({ taskArn }) => taskArn);
    try {
      await reader.applyTaskStates(cluster, running, stopped, signal);
      await this.#options.discoverer.refreshCluster(cluster.arn, signal);
    } catch (error) {
      for (const { index } of newest) outcomes[index] = 'failed';
      if (!signal?.aborted) {
        // Cluster names repeat across accounts and regions: the line says which one, as a round's lines do.
        this.#options.logger.warn(
          `events: ${newest.length} changes of cluster ${cluster.name} (${placeOf(reader.region, reader.account, reader.role !== undefined)}) not applied; they come again after the queue's visibility timeout`,
          { cluster: cluster.name, region: reader.region, ...(reader.role !== undefined && reader.account !== undefined && { account: reader.account }), error: describeError(error) },
        );
      }
      return false;
    }
    // Only now: should it have failed, the same event must be taken when it comes again.
    for (const { index, taskArn, version } of newest) {
      this.#options.versions.note(taskArn, version);
      outcomes[index] = 'applied';
    }
    return true;
  }
}
