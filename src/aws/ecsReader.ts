import type { EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeContainerInstancesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  paginateListClusters,
  paginateListTasks,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { LRUCache } from 'lru-cache';
import {
  accountOfArn,
  clusterNameOf,
  fromEc2Instance,
  fromManagedInstance,
  isManagedInstanceId,
  isSameData,
  toTaskDefinitionRecord,
  toTaskRecord,
  withRuntimeDataOf,
  type ClusterRef,
  type HostDetails,
  type HostRecord,
  type TaskDefinitionRecord,
  type TaskRecord,
} from '../discovery/model.js';
import type { TaskContext } from '../discovery/resolveTargets.js';
import { StringPool } from '../discovery/stringPool.js';
import { withKnownDataOf, type TaskVersions } from '../discovery/taskEvents.js';
import { isAbort, toAbortError, untilAborted } from '../abort.js';
import { withCallOptions, type CallOptions, type CallTurn } from '../callOptions.js';
import { AssumeRoleError, AwsError, describeError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { ClusterReading, RegionReader } from '../round.js';
import {
  checkContainerInstances,
  checkDescribeTasks,
  checkInstanceInformation,
  checkInstances,
  checkListClusters,
  checkListTasks,
  checkTaskDefinition,
} from './answerShapes.js';
import { BatchedCache, type CacheCounters } from './batchedCache.js';
import { ClusterTags } from './clusterTags.js';
import { guardPages } from './pages.js';
import { RefreshSchedule } from './refreshSchedule.js';
import { TaskCache } from './taskCache.js';

/** AWS's limit of ARNs per DescribeTasks and DescribeContainerInstances call. */
const DESCRIBE_BATCH = 100;
/** EC2 accepts up to 200 values per filter. */
const INSTANCE_BATCH = 200;
/** DescribeInstanceInformation takes up to 50 instance ids (and answers up to 50 per page). */
const MANAGED_INSTANCE_BATCH = 50;
/**
 * How long something AWS says does not exist (a task definition that cannot be described, a
 * container instance or EC2 instance that has gone) is not asked for again.
 */
const MISSING_TTL_MS = 5 * 60 * 1000;

/** ECS answers these for a request about something that does not exist or cannot be read. */
const isNotAvailable = (error: unknown) =>
  ['ClientException', 'InvalidParameterException'].includes((error as { name?: string }).name ?? '');
const isClusterNotFound = (error: unknown) => (error as { name?: string }).name === 'ClusterNotFoundException';

/**
 * The failed action, with AWS's error, for one log line; aborts stay aborts. A cluster that
 * ListClusters has just listed is not believed to be gone on the word of one call: the
 * cluster fails this round, and the next listing says whether it has really gone.
 */
function toAwsError(action: string, error: unknown): unknown {
  if (isAbort(error) || error instanceof AwsError) return error;
  if (isClusterNotFound(error)) {
    return new AwsError(`${action} answered ClusterNotFoundException for a cluster that ListClusters listed: ${(error as Error).message}`, { cause: error });
  }
  return new AwsError(`${action} failed: ${describeError(error)}`, { cause: error });
}

function toChunks<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

type CachedDefinition = TaskDefinitionRecord | { arn: string; unavailable: true };

/** A call that several readings may wait on: the round's signal, and the turn of the reading that made it. */
interface SharedCall extends CallTurn {
  signal: AbortSignal | undefined;
}

/**
 * What the calls of one reading heed: its own signal (the cluster's deadline and the round's),
 * and for calls that other clusters may share, the round's; all take the reading's turn.
 */
interface CallScope {
  own: AbortSignal | undefined;
  shared: SharedCall;
}

/** The distinct values of a field of the tasks, those that have it. */
function distinctOf(tasks: readonly TaskRecord[], field: 'taskDefinitionArn' | 'containerInstanceArn'): Set<string> {
  const values = new Set<string>();
  // By index: twice per cluster and round over all its tasks, mostly unoptimized (see readCluster).
  for (let index = 0; index < tasks.length; index++) {
    const value = (tasks[index] as TaskRecord)[field];
    if (value !== undefined) values.add(value);
  }
  return values;
}

/** The scope of a reading outside a round (events): one signal for all its calls, at priority 0, alone. */
const scopeOf = (signal: AbortSignal | undefined): CallScope => ({ own: signal, shared: { signal } });

const waitFor = <T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> => (signal === undefined ? promise : untilAborted(promise, signal));

/** An instance behind a container instance, as EC2 or SSM answered: found or not, and its addresses. */
type InstanceLookup = HostDetails & { found: boolean; unavailable?: string };

export interface EcsReaderOptions {
  ecs: ECSClient;
  /** Makes the EC2 client, the first time a task on an EC2 container instance is seen (Fargate-only fleets never load it). */
  ec2: () => Promise<EC2Client>;
  /** Makes the SSM client, the first time an ECS Anywhere (`mi-…`) instance is seen. */
  ssm?: () => Promise<SSMClient>;
  region: string;
  /** The account it reads, when known at start: a role's. */
  account?: string;
  /** The role it reads through (aws.roles); undefined: the process's own credentials. */
  role?: string;
  /**
   * Makes sure the role's credentials are there (assumed, or still valid) before each listing, so
   * that a role that cannot be assumed fails the listing with that reason (AssumeRoleError).
   */
  assumeRole?: () => Promise<unknown>;
  /**
   * The account of the process's own credentials, once sts:GetCallerIdentity answers; until then,
   * or when it fails, the account of the first cluster ARN listed. Never waited for.
   */
  callerAccount?: Promise<string | undefined>;
  metrics: Metrics;
  /** Ask DescribeTasks for task tags (no extra calls). @default false */
  includeTags?: boolean;
  /** Read each cluster's tags (DescribeClusters, one call per 100 clusters, again every taskRefreshMs). @default false */
  clusterTags?: boolean;
  /** Every cached task is described again at least this often; 0 never. @default 300_000 */
  taskRefreshMs?: number;
  /**
   * The time between rounds: each round adds intervalMs / taskRefreshMs of each cluster's tasks
   * to what its refresh owes (see RefreshSchedule). A function when it changes (events: the
   * resync interval while the queue answers). @default 15_000
   */
  intervalMs?: number | (() => number);
  /** The newest version seen of each task (with events): a described state older than one an event brought is not kept. */
  taskVersions?: TaskVersions;
  now?: () => number;
}

/**
 * Reads ECS clusters and what their tasks need, through caches: a steady fleet costs the list
 * calls and its share of the task refresh; describes happen for what is new, incomplete or due.
 * Throws (AwsError) when something a cluster needs cannot be read, so that the caller keeps that
 * cluster's last good targets.
 */
export class EcsReader implements RegionReader {
  readonly region: string;
  readonly role: string | undefined;
  #account: string | undefined;
  /** The last ListClusters answer named no cluster: a second such answer is believed, and prunes the caches. */
  #lastListedNone = false;
  readonly #assumeRole: (() => Promise<unknown>) | undefined;
  readonly #ecs: ECSClient;
  readonly #makeEc2: () => Promise<EC2Client>;
  #ec2: Promise<EC2Client> | undefined;
  readonly #makeSsm: (() => Promise<SSMClient>) | undefined;
  #ssm: Promise<SSMClient> | undefined;
  readonly #metrics: Metrics;
  readonly #includeTags: boolean;
  readonly #clusterTags: ClusterTags | undefined;
  readonly #taskRefreshMs: number;
  readonly #intervalMs: () => number;
  readonly #taskVersions: TaskVersions | undefined;
  readonly #now: () => number;
  readonly #tasks = new TaskCache();
  readonly #refreshes = new RefreshSchedule(DESCRIBE_BATCH);
  /** The strings that thousands of cached tasks repeat, once. */
  readonly #strings = new StringPool();
  readonly #instanceIds: BatchedCache<{ instanceId?: string }>;
  readonly #ec2Instances: BatchedCache<InstanceLookup>;
  readonly #managedInstances: BatchedCache<InstanceLookup>;
  readonly #definitions: LRUCache<string, CachedDefinition, SharedCall>;
  readonly #described = { tasks: 0, taskDefinitions: 0 };

  constructor({
    ecs,
    ec2,
    ssm,
    region,
    account,
    role,
    assumeRole,
    callerAccount,
    metrics,
    includeTags = false,
    clusterTags = false,
    taskRefreshMs = 300_000,
    intervalMs = 15_000,
    taskVersions,
    now = Date.now,
  }: EcsReaderOptions) {
    this.region = region;
    this.role = role;
    this.#account = account;
    this.#assumeRole = assumeRole;
    void callerAccount?.then((known) => {
      if (known !== undefined) this.#account = known;
    });
    this.#ecs = ecs;
    this.#makeEc2 = ec2;
    this.#makeSsm = ssm;
    this.#metrics = metrics;
    this.#includeTags = includeTags;
    this.#clusterTags = clusterTags ? new ClusterTags({ ecs, refreshMs: taskRefreshMs, now }) : undefined;
    this.#taskRefreshMs = taskRefreshMs;
    this.#intervalMs = typeof intervalMs === 'function' ? intervalMs : () => intervalMs;
    this.#taskVersions = taskVersions;
    this.#now = now;
    // What has gone is remembered for a while only: it may be a moment's inconsistency.
    this.#instanceIds = new BatchedCache({
      max: 50_000,
      batchSize: DESCRIBE_BATCH,
      ttlOf: (found) => (found.instanceId === undefined ? MISSING_TTL_MS : undefined),
      counters: this.#counters('container_instances'),
    });
    const instanceTtl = (instance: InstanceLookup) =>
      instance.unavailable !== undefined ? 0 : instance.found ? undefined : MISSING_TTL_MS;
    this.#ec2Instances = new BatchedCache({ max: 50_000, batchSize: INSTANCE_BATCH, ttlOf: instanceTtl, counters: this.#counters('ec2_instances') });
    this.#managedInstances = new BatchedCache({
      max: 50_000,
      batchSize: MANAGED_INSTANCE_BATCH,
      ttlOf: instanceTtl,
      counters: this.#counters('managed_instances'),
    });
    this.#definitions = new LRUCache<string, CachedDefinition, SharedCall>({
      // By count through maxSize, which allocates nothing up front (see BatchedCache).
      maxSize: 20_000,
      sizeCalculation: () => 1,
      fetchMethod: (arn, _stale, { context, options }) => this.#describeTaskDefinition(arn, context, options),
    });
  }

  #counters(cache: string): CacheCounters {
    return {
      hit: (count) => this.#metrics.cacheHits.inc({ cache }, count),
      miss: (count) => this.#metrics.cacheMisses.inc({ cache }, count),
    };
  }

  cacheSizes(): Record<string, number> {
    return {
      tasks: this.#tasks.size,
      task_definitions: this.#definitions.size,
      container_instances: this.#instanceIds.size,
      ec2_instances: this.#ec2Instances.size,
      managed_instances: this.#managedInstances.size,
    };
  }

  get account(): string | undefined {
    return this.#account;
  }

  /** Every cluster of the region (all pages of ListClusters), with its tags when they are read. */
  async listClusters(signal?: AbortSignal): Promise<ClusterRef[]> {
    if (this.#assumeRole !== undefined) {
      try {
        await waitFor(this.#assumeRole(), signal);
      } catch (error) {
        if (isAbort(error) || signal?.aborted) throw error;
        throw new AssumeRoleError(`the role cannot be assumed: ${describeError(error)}`, { cause: error });
      }
    }
    const clusters: ClusterRef[] = [];
    try {
      const pages = paginateListClusters({ client: this.#ecs }, withCallOptions({}, { signal }));
      for await (const page of guardPages('ListClusters', pages, (answer) => answer.nextToken)) {
        for (const arn of checkListClusters(page)) clusters.push({ arn, name: clusterNameOf(arn) });
      }
    } catch (error) {
      throw toAwsError('ListClusters', error);
    }
    const listed = new Set(clusters.map((cluster) => cluster.arn));
    // A first empty list may be wrong: the discoverer believes it only when the next agrees
    // (EmptyListingDoubt), and its clusters keep their targets meanwhile, which events rebuild
    // from these caches. So they are pruned by an empty list only when it is the second.
    if (listed.size > 0 || this.#lastListedNone) {
      this.#tasks.retainClusters(listed);
      this.#refreshes.retain(listed);
    }
    this.#lastListedNone = listed.size === 0;
    // Every cluster ARN names the account: the own account is known at the latest now.
    const [first] = clusters;
    if (this.#account === undefined && first !== undefined) this.#account = accountOfArn(first.arn);
    return this.#clusterTags === undefined ? clusters : this.#clusterTags.tag(clusters, signal);
  }

  described(): { tasks: number; taskDefinitions: number } {
    return { ...this.#described };
  }

  describeAgain(cluster: ClusterRef, taskArns: Iterable<string>): void {
    this.#tasks.delete(cluster.arn, taskArns);
  }

  /**
   * Lists a cluster's tasks page by page and describes, in batches of up to 100 for the whole
   * cluster, the tasks it has not cached (new, still starting, or incomplete) and those due for
   * a refresh; then reads their task definitions and hosts. Calls of this cluster alone heed
   * `signal`; calls that other clusters may share (task definitions, EC2 and SSM instances) go
   * on under `roundSignal`, and this reading stops waiting for them when `signal` aborts. What
   * was described before an abort stays cached.
   */
  async readCluster(cluster: ClusterRef, signal?: AbortSignal, roundSignal: AbortSignal | undefined = signal, turn: CallTurn = {}): Promise<ClusterReading> {
    const scope: CallScope = { own: signal, shared: { ...turn, signal: roundSignal } };
    const startedAt = this.#now();
    const cachedBefore = this.#tasks.mark();
    const listed = new Set<string>();
    const describing: Promise<TaskRecord[]>[] = [];
    const describe = (arns: string[]) => {
      const described = this.#describeTasks(cluster, arns, { ...turn, signal });
      // Task definitions are fetched as soon as their tasks are known: on a cold start they are the long pole.
      described.then((records) => this.#readTaskDefinitions(records, scope)).catch(() => {});
      described.catch(() => {}); // Awaited below; a failed listing must not leave it unhandled.
      describing.push(described);
    };
    /** Every listed task not cached; `batch` holds those not sent yet. */
    const uncached: string[] = [];
    let batch: string[] = [];
    try {
      const paginator = paginateListTasks(
        { client: this.#ecs, pageSize: 100 },
        withCallOptions({ cluster: cluster.arn, desiredStatus: 'RUNNING' }, { ...turn, signal }),
      );
      for await (const page of guardPages('ListTasks', paginator, (answer) => answer.nextToken)) {
        const arns = checkListTasks(page);
        // By index, and the Set below by forEach: at a few thousand tasks a round these loops run
        // mostly unoptimized, where for...of makes a result object per item.
        for (let index = 0; index < arns.length; index++) {
          const arn = arns[index] as string;
          // Pages may repeat an ARN; each task is read once.
          if (listed.has(arn)) continue;
          listed.add(arn);
          if (this.#tasks.get(cluster.arn, arn) !== undefined) continue;
          uncached.push(arn);
          batch.push(arn);
          if (batch.length === DESCRIBE_BATCH) {
            describe(batch);
            batch = [];
          }
        }
      }
    } catch (error) {
      throw toAwsError('ListTasks', error);
    }
    // Tasks that events brought while the cluster was listed are newer than the listing: kept.
    this.#tasks.retainListed(cluster.arn, listed, cachedBefore);
    this.#metrics.cacheMisses.inc({ cache: 'tasks' }, uncached.length);
    for (const last of this.#withRefreshes(cluster, batch, listed.size - uncached.length, startedAt)) describe(last);

    const described = (await Promise.all(describing)).flat();
    const describedArns = new Set(described.map((task) => task.arn));
    this.#metrics.cacheHits.inc({ cache: 'tasks' }, listed.size - uncached.length);
    const running: TaskRecord[] = [];
    listed.forEach((arn) => {
      const task = this.#tasks.get(cluster.arn, arn);
      if (task !== undefined) running.push(task);
    });
    running.push(...this.#tasks.list(cluster.arn, cachedBefore).filter((task) => !listed.has(task.arn)));
    const contexts = await this.#toContexts(cluster, running, scope);
    const notRunning = [...describedArns].filter((arn) => this.#tasks.get(cluster.arn, arn) === undefined).length;
    const undescribed = uncached.filter((arn) => !describedArns.has(arn)).length;
    return { cluster, tasks: contexts, pendingTasks: notRunning + undescribed };
  }

  /**
   * A reading of the cluster from the caches (after events changed its tasks): its cached
   * tasks, with the task definitions and hosts they need, read when not cached yet. Rejects when
   * one of those cannot be read.
   */
  async readCached(cluster: ClusterRef, signal?: AbortSignal): Promise<ClusterReading> {
    const running = this.#tasks.list(cluster.arn);
    return { cluster, tasks: await this.#toContexts(cluster, running, scopeOf(signal)), pendingTasks: 0 };
  }

  /**
   * Takes what task state change events said of a cluster's tasks: running ones are cached as
   * described now, completed with what events lack from their last describe (with task tags on,
   * one never described is described, since events carry no tags); stopped ones are forgotten.
   * Then reads what the running ones need (task definitions, hosts), so that a failure to read
   * them shows here. Rejects when something could not be read.
   */
  async applyTaskStates(cluster: ClusterRef, running: readonly TaskRecord[], stopped: readonly string[], signal?: AbortSignal): Promise<void> {
    this.#tasks.delete(cluster.arn, stopped);
    const now = this.#now();
    const toDescribe: string[] = [];
    for (const task of running) {
      const known = this.#tasks.get(cluster.arn, task.arn);
      if (this.#includeTags && known === undefined) {
        toDescribe.push(task.arn);
        continue;
      }
      this.#tasks.set(cluster.arn, withKnownDataOf(task, known), now);
      // Its health status is not known until a describe says it: the next round's, in the batches that go anyway.
      if (known === undefined && task.healthStatus === undefined) this.#tasks.markUndescribed(cluster.arn, [task.arn]);
    }
    await Promise.all(toChunks(toDescribe, DESCRIBE_BATCH).map((arns) => this.#describeTasks(cluster, arns, { signal })));
    const scope = scopeOf(signal);
    await Promise.all([this.#readTaskDefinitions(running, scope), this.#readHosts(cluster, running, scope)]);
  }

  /** Keeps which instance a container instance is, as an event told (it never changes): its first task needs no describe for it. */
  learnContainerInstance(containerInstanceArn: string, instanceId: string): void {
    this.#instanceIds.set(containerInstanceArn, { instanceId });
  }

  /** The tasks with their task definitions and hosts, read through the caches. */
  async #toContexts(cluster: ClusterRef, running: readonly TaskRecord[], scope: CallScope): Promise<TaskContext[]> {
    const [definitions, hosts] = await Promise.all([this.#readTaskDefinitions(running, scope), this.#readHosts(cluster, running, scope)]);
    return running.map((task): TaskContext => {
      const definition = definitions.get(task.taskDefinitionArn ?? '');
      return {
        region: this.region,
        cluster,
        task,
        definition: definition === undefined || 'unavailable' in definition ? undefined : definition,
        host: hosts.get(task.containerInstanceArn ?? ''),
      };
    });
  }

  /**
   * The last describe batches of a reading: the cluster's uncached tasks, then the cached tasks
   * due for a refresh (whole calls of them as the schedule says, and every task older than
   * taskRefresh), and, in a call that goes out anyway with room left, more of the stalest.
   */
  #withRefreshes(cluster: ClusterRef, uncached: string[], cached: number, startedAt: number): string[][] {
    // Tasks that events brought and no describe has seen (their health status): described like new ones.
    const unseen = this.#tasks.undescribed(cluster.arn);
    if (this.#taskRefreshMs === 0) return toChunks([...uncached, ...unseen], DESCRIBE_BATCH);
    const unseenSet = new Set(unseen);
    // Only tasks cached before this reading: those it described already are as fresh as can be.
    const scheduled = this.#refreshes.due(cluster.arn, cached, (cached * this.#intervalMs()) / this.#taskRefreshMs);
    const bySchedule = this.#tasks.stalest(cluster.arn, scheduled, unseenSet, startedAt);
    const overdue = this.#tasks.stalest(cluster.arn, Infinity, unseenSet, Math.min(startedAt, this.#now() - this.#taskRefreshMs));
    // Both lists start at the stalest task: the longer one holds the other.
    const due = overdue.length > bySchedule.length ? overdue : bySchedule;
    const batches = toChunks([...uncached, ...unseen, ...due], DESCRIBE_BATCH);
    const last = batches.at(-1);
    let riding = 0;
    if (last !== undefined && last.length < DESCRIBE_BATCH) {
      const more = this.#tasks.stalest(cluster.arn, DESCRIBE_BATCH - last.length, new Set([...due, ...unseen]), startedAt);
      last.push(...more);
      riding = more.length;
    }
    this.#refreshes.spend(cluster.arn, due.length + riding);
    return batches;
  }

  /** Describes tasks; keeps the RUNNING ones as the freshest of the cluster and forgets the others. Returns what it described. */
  async #describeTasks(cluster: ClusterRef, arns: string[], options: CallOptions): Promise<TaskRecord[]> {
    let records: TaskRecord[];
    try {
      const output = await this.#ecs.send(
        new DescribeTasksCommand(
          withCallOptions({ cluster: cluster.arn, tasks: arns, ...(this.#includeTags && { include: ['TAGS'] }) }, options),
        ),
      );
      // Checked before anything is cached: a malformed answer is asked again next round.
      records = checkDescribeTasks(output)
        .map((task) => toTaskRecord(task, this.#strings))
        .filter((record) => record !== undefined);
    } catch (error) {
      throw toAwsError('DescribeTasks', error);
    }
    const describedAt = this.#now();
    this.#described.tasks += records.length;
    const kept: TaskRecord[] = [];
    for (const described of records) {
      // An event brought a newer state while this call was under way: that one stands.
      if (this.#isOutdated(described)) continue;
      const cached = this.#tasks.get(cluster.arn, described.arn);
      const fresh = described.lastStatus === 'RUNNING' ? withRuntimeDataOf(described, cached) : described;
      // A refresh that finds the task as it was keeps its record: what was resolved from it stands, not resolved again.
      const record = cached !== undefined && isSameData(fresh, cached) ? cached : fresh;
      if (record.lastStatus === 'RUNNING') this.#tasks.set(cluster.arn, record, describedAt);
      else this.#tasks.delete(cluster.arn, [record.arn]);
      kept.push(record);
    }
    return kept;
  }

  /** With events: whether a newer state of the task has been seen; notes this one otherwise. */
  #isOutdated(task: TaskRecord): boolean {
    if (this.#taskVersions === undefined || task.version === undefined) return false;
    if (this.#taskVersions.isOutdated(task.arn, task.version)) return true;
    this.#taskVersions.note(task.arn, task.version);
    return false;
  }

  async #readTaskDefinitions(tasks: readonly TaskRecord[], scope: CallScope): Promise<Map<string, CachedDefinition>> {
    // Aborted, a reading stops here even when every definition is cached (as waiting for a fetch would).
    if (scope.own?.aborted) throw toAbortError(scope.own);
    const arns = distinctOf(tasks, 'taskDefinitionArn');
    const definitions = new Map<string, CachedDefinition>();
    const fetching: Promise<void>[] = [];
    // Every round asks for every definition: the cached ones are taken as they are, with no promise each.
    for (const arn of arns) {
      const cached = this.#definitions.get(arn);
      if (cached !== undefined) definitions.set(arn, cached);
      else {
        // fetch() merges concurrent look-ups of one ARN into one call.
        fetching.push(
          waitFor(this.#definitions.fetch(arn, { context: scope.shared }), scope.own).then((definition) => {
            if (definition) definitions.set(arn, definition);
          }),
        );
      }
    }
    if (definitions.size > 0) this.#metrics.cacheHits.inc({ cache: 'task_definitions' }, definitions.size);
    if (fetching.length > 0) this.#metrics.cacheMisses.inc({ cache: 'task_definitions' }, fetching.length);
    await Promise.all(fetching);
    return definitions;
  }

  async #describeTaskDefinition(arn: string, shared: SharedCall, options: { ttl?: number }): Promise<CachedDefinition> {
    try {
      const output = await this.#ecs.send(new DescribeTaskDefinitionCommand(withCallOptions({ taskDefinition: arn }, shared)));
      // A malformed definition throws, and lru-cache keeps nothing of a fetch that rejects.
      const definition = toTaskDefinitionRecord(arn, checkTaskDefinition(output));
      this.#described.taskDefinitions += 1;
      return definition;
    } catch (error) {
      if (!isNotAvailable(error)) throw toAwsError('DescribeTaskDefinition', error);
      options.ttl = MISSING_TTL_MS;
      return { arn, unavailable: true };
    }
  }

  /** The hosts behind the tasks' container instances: EC2 instances, or SSM managed instances (ECS Anywhere). */
  async #readHosts(cluster: ClusterRef, tasks: readonly TaskRecord[], { own: signal, shared }: CallScope): Promise<Map<string, HostRecord>> {
    const containerInstanceArns = distinctOf(tasks, 'containerInstanceArn');
    const hosts = new Map<string, HostRecord>();
    if (containerInstanceArns.size === 0) return hosts;
    const instanceIds = await this.#instanceIds.getMany(containerInstanceArns, (chunk) =>
      this.#describeContainerInstances(cluster, chunk, { ...shared, signal }),
    );
    const ids = [...new Set([...instanceIds.values()].flatMap(({ instanceId }) => (instanceId === undefined ? [] : [instanceId])))];
    // ECS Anywhere ids are never sent to EC2: it rejects the whole call for one malformed id.
    const managedIds = ids.filter(isManagedInstanceId);
    const [ec2Instances, managedInstances] = await Promise.all([
      waitFor(
        this.#ec2Instances.getMany(
          ids.filter((id) => !isManagedInstanceId(id)),
          (chunk) => this.#describeInstances(chunk, shared),
        ),
        signal,
      ),
      managedIds.length === 0
        ? new Map<string, InstanceLookup>()
        : waitFor(
            this.#managedInstances.getMany(managedIds, (chunk) => this.#describeManagedInstances(chunk, shared)),
            signal,
          ),
    ]);
    for (const containerInstanceArn of containerInstanceArns) {
      const instanceId = instanceIds.get(containerInstanceArn)?.instanceId;
      const instance = instanceId === undefined ? undefined : (ec2Instances.get(instanceId) ?? managedInstances.get(instanceId));
      hosts.set(containerInstanceArn, { containerInstanceArn, ...(instanceId !== undefined && { instanceId }), ...instance });
    }
    return hosts;
  }

  async #describeContainerInstances(cluster: ClusterRef, arns: string[], options: CallOptions) {
    try {
      const input = withCallOptions({ cluster: cluster.arn, containerInstances: arns }, options);
      const output = await this.#ecs.send(new DescribeContainerInstancesCommand(input));
      // Not returned: the container instance is gone (an answer too, cached for a while).
      const instanceIds = new Map<string, { instanceId?: string }>(arns.map((arn) => [arn, {}]));
      for (const instance of checkContainerInstances(output)) {
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
  async #describeInstances(instanceIds: string[], shared: SharedCall): Promise<Map<string, InstanceLookup>> {
    // Not returned: the instance is gone (an answer too, cached for a while).
    const instances = new Map<string, InstanceLookup>(instanceIds.map((id) => [id, { found: false }]));
    try {
      // Loaded only now: a fleet without EC2 container instances never pays for the EC2 client.
      const { paginateDescribeInstances } = await import('./ec2Client.js');
      this.#ec2 ??= this.#makeEc2();
      const paginator = paginateDescribeInstances(
        { client: await this.#ec2 },
        withCallOptions({ Filters: [{ Name: 'instance-id', Values: instanceIds }] }, shared),
      );
      for await (const page of guardPages('DescribeInstances', paginator, (answer) => answer.NextToken)) {
        for (const instance of checkInstances(page)) {
          if (instance.InstanceId !== undefined) instances.set(instance.InstanceId, { found: true, ...fromEc2Instance(instance) });
        }
      }
    } catch (error) {
      throw toAwsError('DescribeInstances', error);
    }
    return instances;
  }

  /**
   * ECS Anywhere hosts, from SSM. A failure (denied, throttled after retries) fails only the
   * containers on those hosts, with a reason of their own: it is not cached, so they are asked
   * for again next round.
   */
  async #describeManagedInstances(instanceIds: string[], shared: SharedCall): Promise<Map<string, InstanceLookup>> {
    const instances = new Map<string, InstanceLookup>(instanceIds.map((id) => [id, { found: false }]));
    try {
      // Loaded only now: most users have no ECS Anywhere host, and need not pay for the SSM client.
      const { paginateDescribeInstanceInformation } = await import('./ssmClient.js');
      this.#ssm ??= this.#makeSsmClient();
      const paginator = paginateDescribeInstanceInformation(
        { client: await this.#ssm, pageSize: MANAGED_INSTANCE_BATCH },
        withCallOptions({ Filters: [{ Key: 'InstanceIds', Values: instanceIds }] }, shared),
      );
      for await (const page of guardPages('DescribeInstanceInformation', paginator, (answer) => answer.NextToken)) {
        for (const information of checkInstanceInformation(page)) {
          if (information.InstanceId !== undefined) instances.set(information.InstanceId, { found: true, ...fromManagedInstance(information) });
        }
      }
    } catch (error) {
      if (isAbort(error)) throw error;
      const reason = describeError(toAwsError('DescribeInstanceInformation', error));
      return new Map(instanceIds.map((id) => [id, { found: false, unavailable: reason }]));
    }
    return instances;
  }

  #makeSsmClient(): Promise<SSMClient> {
    if (this.#makeSsm === undefined) return Promise.reject(new Error('no SSM client configured'));
    return this.#makeSsm();
  }
}
