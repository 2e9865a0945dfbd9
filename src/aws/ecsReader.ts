import { paginateDescribeInstances, type EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeContainerInstancesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  paginateListClusters,
  paginateListTasks,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import { LRUCache } from 'lru-cache';
import {
  clusterNameOf,
  toTaskDefinitionRecord,
  toTaskRecord,
  type ClusterRef,
  type HostRecord,
  type TaskDefinitionRecord,
  type TaskRecord,
} from '../discovery/model.js';
import type { TaskContext } from '../discovery/resolveTargets.js';
import { AwsError, describeError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { ClusterReading, RegionReader } from '../round.js';
import { BatchedCache, type CacheCounters } from './batchedCache.js';

/** AWS's limit of ARNs per DescribeTasks and DescribeContainerInstances call. */
const DESCRIBE_BATCH = 100;
/** RUNNING tasks kept per region; beyond it the least recently listed are described again. */
const MAX_CACHED_TASKS = 100_000;
/** EC2 accepts up to 200 values per filter. */
const INSTANCE_BATCH = 200;
/**
 * How long something AWS says does not exist (a task definition that cannot be described, a
 * container instance or EC2 instance that has gone) is not asked for again.
 */
const MISSING_TTL_MS = 5 * 60 * 1000;

/** ECS answers these for a request about something that does not exist or cannot be read. */
const isNotAvailable = (error: unknown) =>
  ['ClientException', 'InvalidParameterException'].includes((error as { name?: string }).name ?? '');
const isAbort = (error: unknown) => (error as { name?: string }).name === 'AbortError';

/** The failed action, with AWS's error, for one log line; aborts stay aborts. */
function toAwsError(action: string, error: unknown): unknown {
  return isAbort(error) || error instanceof AwsError
    ? error
    : new AwsError(`${action} failed: ${describeError(error)}`, { cause: error });
}

interface Ec2Instance {
  privateIp?: string;
  instanceType?: string;
}

type CachedDefinition = TaskDefinitionRecord | { arn: string; unavailable: true };

export interface EcsReaderOptions {
  ecs: ECSClient;
  ec2: EC2Client;
  region: string;
  metrics: Metrics;
  /** Ask DescribeTasks for task tags (no extra calls). @default false */
  includeTags?: boolean;
}

/**
 * Reads ECS clusters and what their tasks need, through caches: a steady fleet costs the list
 * calls only; describes happen for what is new. Throws (AwsError) when something a cluster needs
 * cannot be read, so that the caller keeps that cluster's last good targets.
 */
export class EcsReader implements RegionReader {
  readonly region: string;
  readonly #ecs: ECSClient;
  readonly #ec2: EC2Client;
  readonly #metrics: Metrics;
  readonly #includeTags: boolean;
  readonly #tasks: BatchedCache<TaskRecord>;
  readonly #instanceIds: BatchedCache<{ instanceId?: string }>;
  readonly #instances: BatchedCache<Ec2Instance>;
  readonly #definitions: LRUCache<string, CachedDefinition, AbortSignal>;
  /** Task ARNs of each cluster's last listing, to forget tasks that have gone. */
  readonly #listedTasks = new Map<string, Set<string>>();

  constructor({ ecs, ec2, region, metrics, includeTags = false }: EcsReaderOptions) {
    this.region = region;
    this.#ecs = ecs;
    this.#ec2 = ec2;
    this.#metrics = metrics;
    this.#includeTags = includeTags;
    this.#tasks = new BatchedCache({
      max: MAX_CACHED_TASKS,
      batchSize: DESCRIBE_BATCH,
      ttlOf: (task) => (task.lastStatus === 'RUNNING' ? undefined : 0),
      counters: this.#counters('tasks'),
    });
    // What has gone is remembered for a while only: it may be a moment's inconsistency.
    this.#instanceIds = new BatchedCache({
      max: 50_000,
      batchSize: DESCRIBE_BATCH,
      ttlOf: (found) => (found.instanceId === undefined ? MISSING_TTL_MS : undefined),
      counters: this.#counters('container_instances'),
    });
    this.#instances = new BatchedCache({
      max: 50_000,
      batchSize: INSTANCE_BATCH,
      ttlOf: (instance) => (instance.privateIp === undefined ? MISSING_TTL_MS : undefined),
      counters: this.#counters('ec2_instances'),
    });
    this.#definitions = new LRUCache<string, CachedDefinition, AbortSignal>({
      max: 20_000,
      fetchMethod: (arn, _stale, { context, options }) => this.#describeTaskDefinition(arn, context, options),
    });
  }

  #counters(cache: string): CacheCounters {
    return {
      hit: (count) => this.#metrics.cacheHits.inc({ cache }, count),
      miss: (count) => this.#metrics.cacheMisses.inc({ cache }, count),
    };
  }

  /** Entries per cache, for the cache size metric. */
  cacheSizes(): Record<string, number> {
    return {
      tasks: this.#tasks.size,
      task_definitions: this.#definitions.size,
      container_instances: this.#instanceIds.size,
      ec2_instances: this.#instances.size,
    };
  }

  /** Every cluster of the region (all pages of ListClusters). */
  async listClusters(signal?: AbortSignal): Promise<ClusterRef[]> {
    const clusters: ClusterRef[] = [];
    try {
      for await (const page of paginateListClusters({ client: this.#ecs }, {}, { abortSignal: signal })) {
        for (const arn of page.clusterArns ?? []) clusters.push({ arn, name: clusterNameOf(arn) });
      }
    } catch (error) {
      throw toAwsError('ListClusters', error);
    }
    return clusters;
  }

  /**
   * Lists a cluster's RUNNING tasks page by page; each page's tasks are described (when not
   * cached) as soon as the page arrives, with their task definitions and hosts.
   */
  async readCluster(cluster: ClusterRef, signal?: AbortSignal): Promise<ClusterReading> {
    const listed = new Set<string>();
    const pages: Promise<{ tasks: TaskContext[]; pending: number }>[] = [];
    try {
      const paginator = paginateListTasks(
        { client: this.#ecs, pageSize: 100 },
        { cluster: cluster.arn, desiredStatus: 'RUNNING' },
        { abortSignal: signal },
      );
      for await (const page of paginator) {
        // Pages may repeat an ARN; each task is read once.
        const fresh = (page.taskArns ?? []).filter((arn) => !listed.has(arn) && listed.add(arn));
        const reading = this.#readTasks(cluster, fresh, signal);
        reading.catch(() => {}); // Awaited below; a failed listing must not leave it unhandled.
        pages.push(reading);
      }
    } catch (error) {
      if ((error as { name?: string }).name === 'ClusterNotFoundException') {
        return { cluster, tasks: [], pendingTasks: 0 };
      }
      throw toAwsError('ListTasks', error);
    }
    const readings = await Promise.all(pages);
    this.#forgetGoneTasks(cluster.arn, listed);
    return {
      cluster,
      tasks: readings.flatMap((reading) => reading.tasks),
      pendingTasks: readings.reduce((sum, reading) => sum + reading.pending, 0),
    };
  }

  #forgetGoneTasks(clusterArn: string, listed: Set<string>): void {
    for (const arn of this.#listedTasks.get(clusterArn) ?? []) if (!listed.has(arn)) this.#tasks.delete(arn);
    this.#listedTasks.set(clusterArn, listed);
  }

  async #readTasks(cluster: ClusterRef, arns: string[], signal?: AbortSignal) {
    const tasks = await this.#tasks.getMany(arns, (chunk) => this.#describeTasks(cluster, chunk, signal));
    const running = [...tasks.values()].filter((task) => task.lastStatus === 'RUNNING');
    const [definitions, hosts] = await Promise.all([
      this.#readTaskDefinitions(running, signal),
      this.#readHosts(cluster, running, signal),
    ]);
    const contexts = running.map((task): TaskContext => {
      const definition = definitions.get(task.taskDefinitionArn ?? '');
      return {
        region: this.region,
        cluster,
        task,
        definition: definition === undefined || 'unavailable' in definition ? undefined : definition,
        host: hosts.get(task.containerInstanceArn ?? ''),
      };
    });
    return { tasks: contexts, pending: tasks.size - running.length };
  }

  async #describeTasks(cluster: ClusterRef, arns: string[], signal?: AbortSignal): Promise<Map<string, TaskRecord>> {
    try {
      const output = await this.#ecs.send(
        new DescribeTasksCommand({ cluster: cluster.arn, tasks: arns, ...(this.#includeTags && { include: ['TAGS'] }) }),
        { abortSignal: signal },
      );
      const tasks = new Map<string, TaskRecord>();
      for (const task of output.tasks ?? []) {
        const record = toTaskRecord(task);
        if (record) tasks.set(record.arn, record);
      }
      return tasks;
    } catch (error) {
      throw toAwsError('DescribeTasks', error);
    }
  }

  async #readTaskDefinitions(tasks: TaskRecord[], signal?: AbortSignal): Promise<Map<string, CachedDefinition>> {
    const arns = [...new Set(tasks.map((task) => task.taskDefinitionArn).filter((arn) => arn !== undefined))];
    const definitions = new Map<string, CachedDefinition>();
    await Promise.all(
      arns.map(async (arn) => {
        const cached = this.#definitions.has(arn);
        this.#metrics[cached ? 'cacheHits' : 'cacheMisses'].inc({ cache: 'task_definitions' });
        // fetch() merges concurrent look-ups of one ARN into one call.
        const definition = await this.#definitions.fetch(arn, { context: signal as AbortSignal });
        if (definition) definitions.set(arn, definition);
      }),
    );
    return definitions;
  }

  async #describeTaskDefinition(
    arn: string,
    signal: AbortSignal | undefined,
    options: { ttl?: number },
  ): Promise<CachedDefinition> {
    try {
      const output = await this.#ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }), {
        abortSignal: signal,
      });
      if (output.taskDefinition === undefined) throw new Error('answer without a task definition');
      return toTaskDefinitionRecord(arn, output.taskDefinition);
    } catch (error) {
      if (!isNotAvailable(error)) throw toAwsError('DescribeTaskDefinition', error);
      options.ttl = MISSING_TTL_MS;
      return { arn, unavailable: true };
    }
  }

  async #readHosts(cluster: ClusterRef, tasks: TaskRecord[], signal?: AbortSignal): Promise<Map<string, HostRecord>> {
    const containerInstanceArns = tasks.map((task) => task.containerInstanceArn).filter((arn) => arn !== undefined);
    const hosts = new Map<string, HostRecord>();
    if (containerInstanceArns.length === 0) return hosts;
    const instanceIds = await this.#instanceIds.getMany(containerInstanceArns, (chunk) =>
      this.#describeContainerInstances(cluster, chunk, signal),
    );
    const instances = await this.#instances.getMany(
      [...instanceIds.values()].flatMap(({ instanceId }) => (instanceId === undefined ? [] : [instanceId])),
      (chunk) => this.#describeInstances(chunk, signal),
    );
    for (const containerInstanceArn of new Set(containerInstanceArns)) {
      const instanceId = instanceIds.get(containerInstanceArn)?.instanceId;
      const instance = instanceId === undefined ? undefined : instances.get(instanceId);
      hosts.set(containerInstanceArn, { containerInstanceArn, instanceId, ...instance });
    }
    return hosts;
  }

  async #describeContainerInstances(cluster: ClusterRef, arns: string[], signal?: AbortSignal) {
    try {
      const output = await this.#ecs.send(
        new DescribeContainerInstancesCommand({ cluster: cluster.arn, containerInstances: arns }),
        { abortSignal: signal },
      );
      // Not returned: the container instance is gone (an answer too, cached for a while).
      const instanceIds = new Map<string, { instanceId?: string }>(arns.map((arn) => [arn, {}]));
      for (const instance of output.containerInstances ?? []) {
        if (instance.containerInstanceArn && instance.ec2InstanceId) {
          instanceIds.set(instance.containerInstanceArn, { instanceId: instance.ec2InstanceId });
        }
      }
      return instanceIds;
    } catch (error) {
      throw toAwsError('DescribeContainerInstances', error);
    }
  }

  /** By filter, not InstanceIds: one instance that has gone must not fail the whole call. */
  async #describeInstances(instanceIds: string[], signal?: AbortSignal): Promise<Map<string, Ec2Instance>> {
    // Not returned: the instance is gone (an answer too, cached for a while).
    const instances = new Map<string, Ec2Instance>(instanceIds.map((id) => [id, {}]));
    try {
      const paginator = paginateDescribeInstances(
        { client: this.#ec2 },
        { Filters: [{ Name: 'instance-id', Values: instanceIds }] },
        { abortSignal: signal },
      );
      for await (const page of paginator) {
        for (const instance of (page.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? [])) {
          if (instance.InstanceId === undefined) continue;
          instances.set(instance.InstanceId, {
            ...(instance.PrivateIpAddress && { privateIp: instance.PrivateIpAddress }),
            ...(instance.InstanceType && { instanceType: instance.InstanceType }),
          });
        }
      }
    } catch (error) {
      throw toAwsError('DescribeInstances', error);
    }
    return instances;
  }
}

