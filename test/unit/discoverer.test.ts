import { describe, expect, it, vi } from 'vitest';
import { toTaskDefinitionRecord, toTaskRecord, type ClusterRef } from '../../src/discovery/model.js';
import type { TaskContext } from '../../src/discovery/resolveTargets.js';
import { toPublishedGroup, type TargetGroup } from '../../src/discovery/targetGroups.js';
import { Discoverer } from '../../src/discoverer.js';
import type { CallTurn } from '../../src/callOptions.js';
import { silentLogger, type LogFields, type Logger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { LOOP_SAMPLE_EVERY_MS } from '../../src/loopBlocks.js';
import type { ClusterReading, ClusterState, RegionReader, Snapshot } from '../../src/round.js';
import type { ProgressFigures } from '../../src/roundProgress.js';
import { clusterArn, makeTask, makeTaskDefinition } from '../../src/fake/fleet.js';
import type { TimeSlicing } from '../../src/timeSlices.js';
import { DEFAULT_OPTIONS } from '../fixtures/ecsFixtures.js';
import { afterLoopSample, blockLoopFor } from '../support/eventLoop.js';

const resolveOptions = DEFAULT_OPTIONS;

const definition = makeTaskDefinition('web', 1, 'awsvpc', [{ name: 'web', environment: { PROMETHEUS: '1' } }]);
const brokenDefinition = makeTaskDefinition('broken', 1, 'awsvpc', [
  { name: 'web', environment: { PROMETHEUS: '1', PROMETHEUS_PORT: 'x' } },
]);

const ref = (name: string): ClusterRef => ({ name, arn: clusterArn(name) });

function fargateTask(cluster: string, id: string, ip: string, taskDefinition = definition): TaskContext {
  const task = toTaskRecord(
    makeTask({ cluster, id, definition: taskDefinition, launchType: 'FARGATE', eniIp: ip, containers: [{ name: 'web' }] }),
  );
  if (!task) throw new Error('fixture without ARN');
  return {
    region: 'eu-west-1',
    cluster: ref(cluster),
    task,
    definition: toTaskDefinitionRecord(taskDefinition.taskDefinitionArn as string, taskDefinition),
    host: undefined,
  };
}

/** A hand-written reader: clusters answer tasks, or an error to throw. */
class FakeReader implements RegionReader {
  readonly region = 'eu-west-1';
  clusterList: ClusterRef[] | Error = [];
  /** 'hang': a reading that never ends, whatever its signal says. */
  readonly answers = new Map<string, TaskContext[] | Error | 'hang'>();
  readonly signals = new Map<string, { signal: AbortSignal | undefined; roundSignal: AbortSignal | undefined }>();
  /** The call turn each cluster's latest reading ran with. */
  readonly turns = new Map<string, CallTurn>();

  set(name: string, answer: TaskContext[] | Error | 'hang'): void {
    this.answers.set(name, answer);
    if (!(this.clusterList instanceof Error) && !this.clusterList.some((cluster) => cluster.name === name)) {
      this.clusterList.push(ref(name));
    }
  }

  async listClusters(): Promise<ClusterRef[]> {
    if (this.clusterList instanceof Error) throw this.clusterList;
    return this.clusterList;
  }

  /** What the caches hold after events, by cluster name (readCached); the answers when not set. */
  readonly cached = new Map<string, TaskContext[]>();
  /** Runs while a cluster is being read (an event that comes meanwhile). */
  duringRead: ((cluster: ClusterRef) => Promise<void>) | undefined;

  async readCached(cluster: ClusterRef): Promise<ClusterReading> {
    await Promise.resolve();
    const tasks = this.cached.get(cluster.name) ?? this.answers.get(cluster.name);
    if (!Array.isArray(tasks)) throw new Error(`no cached tasks for ${cluster.name}`);
    return { cluster, tasks, pendingTasks: 0 };
  }

  async readCluster(cluster: ClusterRef, signal?: AbortSignal, roundSignal?: AbortSignal, turn: CallTurn = {}): Promise<ClusterReading> {
    this.signals.set(cluster.name, { signal, roundSignal });
    this.turns.set(cluster.name, turn);
    await this.duringRead?.(cluster);
    const answer = this.answers.get(cluster.name) ?? [];
    if (answer === 'hang') return new Promise(() => {});
    if (answer instanceof Error) throw answer;
    return { cluster, tasks: answer, pendingTasks: 0 };
  }

  readonly describedAgain: string[] = [];

  describeAgain(_cluster: ClusterRef, taskArns: Iterable<string>): void {
    this.describedAgain.push(...taskArns);
  }

  cacheSizes() {
    return { tasks: 7 };
  }
}

/** Holds every reading of `reader` until `release()`; `restore()` gives it back its own readCluster. */
function holdReadings(reader: FakeReader): { release: () => void; restore: () => void } {
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const readCluster = reader.readCluster.bind(reader);
  reader.readCluster = async (cluster) => {
    await held;
    return readCluster(cluster);
  };
  return {
    release: () => release(),
    restore: () => {
      reader.readCluster = readCluster;
    },
  };
}

function setup({
  failPublish = false,
  earlierStates,
  unreadClusterRounds,
  clusterTimeoutMs,
  timeSlicing,
}: { failPublish?: boolean; earlierStates?: ClusterState[]; unreadClusterRounds?: number; clusterTimeoutMs?: number; timeSlicing?: TimeSlicing } = {}) {
  const reader = new FakeReader();
  const published: Snapshot[] = [];
  const lines: string[] = [];
  const fields: LogFields[] = [];
  const record = (level: string) => (message: string, given: LogFields = {}) => {
    lines.push(`${level} ${message}`);
    fields.push(given);
  };
  const logger: Logger = { debug: () => {}, info: record('info'), warn: record('warn'), error: record('error') };
  const metrics = createMetrics();
  let now = 1_700_000_000_000;
  const discoverer = new Discoverer({
    readers: [reader],
    resolveOptions,
    publish: async (snapshot) => {
      if (failPublish) throw new Error('disk full');
      published.push(snapshot);
    },
    countRequests: () => 0,
    ...(clusterTimeoutMs !== undefined && { clusterTimeoutMs }),
    logger,
    metrics,
    now: () => (now += 10),
    ...(earlierStates && { earlierStates }),
    ...(unreadClusterRounds && { unreadClusterRounds }),
    ...(timeSlicing && { timeSlicing }),
  });
  const addresses = () =>
    (published.at(-1)?.groups.generic ?? [])
      .map((group) => JSON.parse(group.json) as TargetGroup)
      .map((group) => `${group.labels['cluster']} ${group.targets[0]}`);
  return { reader, published, lines, fields, metrics, discoverer, addresses };
}

describe('Discoverer', () => {
  it('reads the clusters concurrently, with call priorities in their listing order', async () => {
    const { reader, discoverer } = setup();
    for (const name of ['c', 'a', 'b']) reader.set(name, [fargateTask(name, `t-${name}`, '127.0.0.1')]);

    await discoverer.runRound();

    expect(Object.fromEntries([...reader.turns].map(([name, turn]) => [name, turn.priority]))).toEqual({ c: 0, a: 1, b: 2 });
  });

  it('lets the calls of later rounds go out together, not those of the first, whose clusters may be published as read', async () => {
    const { reader, discoverer } = setup();
    for (const name of ['a', 'b']) reader.set(name, [fargateTask(name, `t-${name}`, '127.0.0.1')]);

    await discoverer.runRound();
    const first = [...reader.turns.values()].map((turn) => turn.together ?? false);
    await discoverer.runRound();
    const second = [...reader.turns.values()].map((turn) => turn.together ?? false);

    expect(first).toEqual([false, false]);
    expect(second).toEqual([true, true]);
  });

  it('gives way to other work while it resolves a large cluster, in slices no longer than the limit', async () => {
    // Prepare: a clock that moves 1 ms each time it is read; the times read in each slice.
    let time = 0;
    const slices: number[][] = [[]];
    const timeSlicing: TimeSlicing = {
      sliceMs: 10,
      now: () => {
        time += 1;
        slices.at(-1)?.push(time);
        return time;
      },
      giveWay: async () => {
        // The read that decided to give way came after the slice's last task: not part of it.
        slices.at(-1)?.pop();
        slices.push([]);
      },
    };
    const { reader, discoverer, addresses } = setup({ timeSlicing });
    reader.set('big', Array.from({ length: 300 }, (_, index) => fargateTask('big', `t${index}`, `127.0.${Math.floor(index / 200)}.${(index % 200) + 1}`)));

    // Act
    await discoverer.runRound();

    // Assess: every target is there, and resolution gave way many times, each slice within 10 ms.
    expect(addresses()).toHaveLength(300);
    expect(slices.length).toBeGreaterThan(20);
    for (const slice of slices) expect((slice.at(-1) ?? 0) - (slice[0] ?? 0)).toBeLessThanOrEqual(10);
  });

  it('publishes the targets of every cluster and reports the round', async () => {
    const { reader, discoverer, addresses } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    reader.set('b', [fargateTask('b', 't2', '127.0.0.2'), fargateTask('b', 't3', '127.0.0.3')]);

    const { report } = await discoverer.runRound();

    expect(report).toMatchObject({ outcome: 'ok', clusters: 2, tasks: 3, failures: [] });
    expect(report.targets).toEqual({ generic: 3, '15s': 0, '30s': 0, '1m': 0, '5m': 0 });
    expect(addresses()).toEqual(['a 127.0.0.1:80', 'b 127.0.0.2:80', 'b 127.0.0.3:80']);
  });

  it('keeps the last good targets of a cluster whose read fails, while other clusters move on', async () => {
    const { reader, discoverer, addresses, lines } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    reader.set('b', [fargateTask('b', 't2', '127.0.0.2')]);
    await discoverer.runRound();
    reader.set('a', new Error('ThrottlingException: Rate exceeded'));
    reader.set('b', [fargateTask('b', 't4', '127.0.0.4')]);

    const { report, snapshot } = await discoverer.runRound();

    expect(report.outcome).toBe('partial');
    expect(addresses()).toEqual(['a 127.0.0.1:80', 'b 127.0.0.4:80']);
    expect(report.failures).toEqual(['cluster a (eu-west-1): keeps its last good targets: ThrottlingException: Rate exceeded']);
    expect(lines.filter((line) => line.includes('cluster a'))).toHaveLength(1);
    expect(snapshot.clusters.find((state) => state.cluster.name === 'a')?.error).toBe('ThrottlingException: Rate exceeded');
  });

  it('hands out snapshots that later rounds never change', async () => {
    const { reader, discoverer } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    const { snapshot: first } = await discoverer.runRound();
    reader.set('a', new Error('ThrottlingException: Rate exceeded'));

    const { snapshot: second } = await discoverer.runRound();

    expect(first.clusters[0]?.error).toBeUndefined();
    expect(second.clusters[0]?.error).toBe('ThrottlingException: Rate exceeded');
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.clusters)).toBe(true);
    expect(Object.isFrozen(first.clusters[0])).toBe(true);
    expect(Object.isFrozen(first.clusters[0]?.targets)).toBe(true);
  });

  it('publishes frozen snapshots and groups: the early ones of a first round and the final one', async () => {
    const { reader, discoverer, published } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    reader.set('b', [fargateTask('b', 't2', '127.0.0.2')]);

    const { snapshot: final } = await discoverer.runRound();

    const early = published.filter((snapshot) => snapshot !== final);
    expect(early.length).toBeGreaterThanOrEqual(1);
    for (const snapshot of [...early, final]) {
      expect(Object.isFrozen(snapshot)).toBe(true);
      expect(Object.isFrozen(snapshot.groups)).toBe(true);
      expect(Object.isFrozen(snapshot.groups.generic)).toBe(true);
      expect(Object.isFrozen(snapshot.groups.generic[0])).toBe(true);
    }
  });

  it('keeps every cluster, and reports a failed round, when the cluster listing fails', async () => {
    const { reader, discoverer, addresses, published } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    await discoverer.runRound();
    reader.clusterList = new Error('ServiceUnavailable');
    const before = published.length;

    const { report } = await discoverer.runRound();

    expect(report.outcome).toBe('failed');
    expect(published).toHaveLength(before + 1);
    expect(addresses()).toEqual(['a 127.0.0.1:80']);
  });

  it('logs one line per round during a total outage, with the reason', async () => {
    const { reader, discoverer, lines, fields } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    reader.set('b', [fargateTask('b', 't2', '127.0.0.2')]);
    await discoverer.runRound();
    lines.length = 0;
    fields.length = 0;
    reader.clusterList = new Error('AwsError: ListClusters failed: connect ECONNREFUSED');

    await discoverer.runRound();
    await discoverer.runRound();

    expect(lines).toEqual(['warn round', 'warn round']);
    expect(fields[1]).toMatchObject({
      outcome: 'failed',
      error: 'region eu-west-1: clusters kept from the last good round: AwsError: ListClusters failed: connect ECONNREFUSED',
    });
  });

  it('drops the targets of a cluster that is no longer listed', async () => {
    const { reader, discoverer, addresses, metrics } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    reader.set('b', [fargateTask('b', 't2', '127.0.0.2')]);
    await discoverer.runRound();
    reader.clusterList = [ref('b')];

    await discoverer.runRound();

    expect(addresses()).toEqual(['b 127.0.0.2:80']);
    const lastSuccess = await metrics.clusterLastSuccess.get();
    expect(lastSuccess.values.map((value) => value.labels['cluster'])).toEqual(['b']);
  });

  it('publishes healthy clusters from the first round, while a failing cluster keeps what an earlier run published for it', async () => {
    // Prepare: the files of an earlier run held one target of cluster b
    const earlier = toPublishedGroup({ interval: 'generic', cluster: 'b', address: '127.0.0.9:80', labels: { cluster: 'b' } });
    const { reader, discoverer, addresses, published } = setup({
      earlierStates: [{ region: 'eu-west-1', cluster: ref('b'), tasks: 0, pendingTasks: 0, targets: [earlier], skips: [], warnings: [], lastSuccessAt: undefined, error: undefined, restored: true }],
    });
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    reader.set('b', new Error('AccessDeniedException: not authorized'));

    // Act
    const { report, snapshot } = await discoverer.runRound();

    // Assess
    expect(report.outcome).toBe('partial');
    expect(published).toHaveLength(1);
    expect(addresses()).toEqual(['a 127.0.0.1:80', 'b 127.0.0.9:80']);
    expect(snapshot.clusters.find((state) => state.cluster.name === 'b')).toMatchObject({ restored: true, error: 'AccessDeniedException: not authorized' });
    expect(report.unreadClusters).toEqual([]);
  });

  it('does not believe one listing of no cluster at all after a good round: keeps every target, with a warning, until a second agrees', async () => {
    const { reader, discoverer, addresses, fields } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    reader.set('b', [fargateTask('b', 't2', '127.0.0.2')]);
    await discoverer.runRound();
    reader.clusterList = [];

    const { report: doubted } = await discoverer.runRound();
    const keptAddresses = addresses();
    const { report: agreed } = await discoverer.runRound();

    expect(keptAddresses).toEqual(['a 127.0.0.1:80', 'b 127.0.0.2:80']);
    expect(doubted.outcome).toBe('failed');
    expect(doubted.failures).toEqual([
      'region eu-west-1: clusters kept from the last good round: ListClusters answered no cluster at all, where the last good round had 2; not believed until the next answer agrees',
    ]);
    expect(fields.filter((given) => given['outcome'] === 'failed')).toHaveLength(1);
    expect(agreed).toMatchObject({ outcome: 'ok', clusters: 0 });
    expect(addresses()).toEqual([]);
  });

  it('doubts again a listing of no cluster after one that listed some, and believes one at the first round', async () => {
    const { reader, discoverer, addresses } = setup();
    const { report: first } = await discoverer.runRound();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    await discoverer.runRound();
    reader.clusterList = [];
    await discoverer.runRound();
    reader.clusterList = [ref('a')];
    await discoverer.runRound();
    reader.clusterList = [];

    const { report: doubtedAgain } = await discoverer.runRound();

    expect(first.outcome).toBe('ok');
    expect(doubtedAgain.outcome).toBe('failed');
    expect(addresses()).toEqual(['a 127.0.0.1:80']);
  });

  it('abandons a cluster still being read at its deadline, with its last good targets, while the others are fresh', async () => {
    const { reader, discoverer, addresses, lines } = setup({ clusterTimeoutMs: 50 });
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    reader.set('b', [fargateTask('b', 't2', '127.0.0.2')]);
    await discoverer.runRound();
    reader.set('a', 'hang');
    reader.set('b', [fargateTask('b', 't3', '127.0.0.3')]);
    const round = new AbortController();

    const { report } = await discoverer.runRound(round.signal);

    expect(report.outcome).toBe('partial');
    expect(report.failures).toEqual(['cluster a (eu-west-1): keeps its last good targets: abandoned for this round: still being read after 0.05 s (aws.clusterTimeout)']);
    expect(lines.filter((line) => line.includes('cluster a'))).toHaveLength(1);
    expect(addresses()).toEqual(['a 127.0.0.1:80', 'b 127.0.0.3:80']);
    // The reader heard of the deadline; calls that clusters share answer to the round alone.
    expect(reader.signals.get('a')?.signal?.aborted).toBe(true);
    expect(reader.signals.get('a')?.roundSignal).toBe(round.signal);
    expect(round.signal.aborted).toBe(false);
  });

  it('reports an abort of the round as such, not as a cluster deadline', async () => {
    const { reader, discoverer } = setup({ clusterTimeoutMs: 60_000 });
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    await discoverer.runRound();
    reader.set('a', 'hang');
    const round = new AbortController();

    const running = discoverer.runRound(round.signal);
    round.abort(new Error('round took longer than 120s'));
    const { report } = await running;

    expect(report.failures).toEqual(['cluster a (eu-west-1): keeps its last good targets: AbortError: round took longer than 120s']);
  });

  it('publishes each cluster as soon as it is read in a first round with nothing earlier, and then once a round', async () => {
    const { reader, discoverer, published } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    reader.set('b', [fargateTask('b', 't2', '127.0.0.2')]);

    await discoverer.runRound();
    const afterFirst = published.length;
    await discoverer.runRound();

    const sizes = published.map((snapshot) => snapshot.groups.generic.length);
    expect(sizes[0]).toBe(1);
    expect(sizes.slice(afterFirst - 1)).toEqual([2, 2]);
    expect(afterFirst).toBeGreaterThanOrEqual(2);
    expect(published.length).toBe(afterFirst + 1);
    // What was read so far is for the files alone (main.ts): HTTP SD takes the round's end.
    expect(published.map((snapshot) => snapshot.soFar === true)).toEqual([...Array<boolean>(afterFirst - 1).fill(true), false, false]);
  });

  it('says that the first targets are published once a target is, not when an empty cluster is read first', async () => {
    const { reader, discoverer, published, lines, fields } = setup();
    reader.set('empty', []);
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    let releaseA!: () => void;
    const aHeld = new Promise<void>((resolve) => (releaseA = resolve));
    reader.duringRead = (cluster) => (cluster.name === 'a' ? aHeld : Promise.resolve());

    const round = discoverer.runRound();
    await expect.poll(() => published.length).toBe(1);
    const linesWithEmptyOnly = [...lines];
    releaseA();
    await round;

    expect(published[0]).toMatchObject({ soFar: true, groups: { generic: [] } });
    expect(linesWithEmptyOnly).toEqual([]);
    const first = lines.indexOf('info first targets published');
    expect(fields[first]).toEqual({ targets: 1 });
  });

  it('waits for a complete first round before publishing when an earlier run left targets', async () => {
    const earlier = toPublishedGroup({ interval: 'generic', cluster: 'a', address: '127.0.0.9:80', labels: { cluster: 'a' } });
    const { reader, discoverer, published } = setup({
      earlierStates: [{ region: 'eu-west-1', cluster: ref('a'), tasks: 0, pendingTasks: 0, targets: [earlier], skips: [], warnings: [], lastSuccessAt: undefined, error: undefined, restored: true }],
    });
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    reader.set('b', [fargateTask('b', 't2', '127.0.0.2')]);

    await discoverer.runRound();

    expect(published).toHaveLength(1);
  });

  it('publishes nothing while no cluster could be read and nothing earlier was published', async () => {
    const { reader, discoverer, published } = setup();
    reader.clusterList = new Error('ServiceUnavailable');

    const { report } = await discoverer.runRound();

    expect(report.outcome).toBe('failed');
    expect(published).toEqual([]);
    expect(report.failures).toContain('nothing published: no cluster read yet, and no earlier targets in the output directory');
  });

  it('says once, loudly, when a cluster never read and with nothing earlier is published without targets', async () => {
    const { reader, discoverer, lines, published } = setup({ unreadClusterRounds: 2 });
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    reader.set('b', new Error('AccessDeniedException: not authorized'));

    const first = await discoverer.runRound();
    const second = await discoverer.runRound();
    await discoverer.runRound();
    reader.set('b', [fargateTask('b', 't2', '127.0.0.2')]);
    const healed = await discoverer.runRound();

    // Round 1 publishes a as soon as it is read (nothing earlier), then at its end; then once a round.
    expect(published).toHaveLength(5);
    expect(first.report.unreadClusters).toEqual([{ name: 'b', region: 'eu-west-1', rounds: 1, reason: 'AccessDeniedException: not authorized' }]);
    expect(second.report.unreadClusters).toEqual([{ name: 'b', region: 'eu-west-1', rounds: 2, reason: 'AccessDeniedException: not authorized' }]);
    expect(lines.filter((line) => line.includes('published without targets'))).toEqual([
      'warn cluster b (eu-west-1) has not been read in 2 rounds and had no earlier targets: published without targets',
    ]);
    expect(healed.report.unreadClusters).toEqual([]);
  });

  it('reports a failed round when publishing fails', async () => {
    const { reader, discoverer, metrics } = setup({ failPublish: true });
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);

    const { report } = await discoverer.runRound();

    expect(report.outcome).toBe('failed');
    expect(report.failures).toEqual(['publishing failed: disk full']);
    expect((await metrics.rounds.get()).values).toEqual([{ labels: { outcome: 'failed' }, value: 1 }]);
  });

  it('asks the reader to describe again a RUNNING task whose address ECS has not filled in yet, and only that one', async () => {
    const { reader, discoverer } = setup();
    const withoutAddress = fargateTask('a', 't1', '127.0.0.1');
    const late: TaskContext = { ...withoutAddress, task: { ...withoutAddress.task, eniPrivateIp: undefined, containers: [{ name: 'web', bindings: [] }] } };
    reader.set('a', [late, fargateTask('a', 't2', '127.0.0.2'), fargateTask('a', 't3', '127.0.0.3', brokenDefinition)]);

    const { snapshot } = await discoverer.runRound();

    expect(reader.describedAgain).toEqual([late.task.arn]);
    expect(snapshot.clusters[0]?.skips.map((skip) => skip.reason).sort()).toEqual(['bad_port', 'no_ip']);
  });

  it('logs the progress of a long first round every 5 s, and of no later round', async () => {
    vi.useFakeTimers();
    try {
      const { reader, discoverer, lines, fields } = setup();
      reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
      const held = holdReadings(reader);

      const first = discoverer.runRound();
      await vi.advanceTimersByTimeAsync(10_001);
      held.release();
      await first;
      await vi.advanceTimersByTimeAsync(20_000);
      held.restore();
      await discoverer.runRound();

      const progress = lines.filter((line) => line === 'info first round in progress');
      expect(progress).toHaveLength(2);
      expect(fields[lines.indexOf('info first round in progress')]).toEqual({
        clusters_listed: 1,
        clusters_done: 0,
        tasks_described: 0,
        task_definitions_described: 0,
        api_calls: 0,
        throttled: 0,
      });
    } finally {
      vi.useRealTimers();
    }
  });

  it('logs a skipped container once, and again only when its reason changes', async () => {
    const { reader, discoverer, lines } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1', brokenDefinition)]);

    await discoverer.runRound();
    await discoverer.runRound();
    const skipLines = lines.filter((line) => line.includes('skipped container'));

    expect(skipLines).toEqual([
      `warn skipped container web of broken:1 (service broken) of task ${clusterArn('a').replace(':cluster/', ':task/')}/t1 (cluster a): bad_port: PROMETHEUS_PORT "x" is not a port in 1..65535`,
    ]);
  });

  it('logs one line for the same skip in many tasks, with the count, an example task and fields', async () => {
    const { reader, discoverer, lines, fields } = setup();
    const tasks = Array.from({ length: 500 }, (_, index) => fargateTask('a', `t${String(index).padStart(3, '0')}`, '127.0.0.1', brokenDefinition));
    reader.set('a', tasks.slice(0, 300));
    reader.set('b', tasks.slice(300).map((task) => ({ ...task, cluster: ref('b') })));

    await discoverer.runRound();
    await discoverer.runRound();

    const skipLines = lines.filter((line) => line.includes('skipped container'));
    expect(skipLines).toEqual([
      `warn skipped container web of broken:1 (service broken) in 500 tasks, e.g. ${tasks[0]?.task.arn} (cluster a): bad_port: PROMETHEUS_PORT "x" is not a port in 1..65535`,
    ]);
    expect(fields[lines.indexOf(skipLines[0] as string)]).toEqual({
      reason: 'bad_port',
      family: 'broken',
      revision: 1,
      service: 'broken',
      container: 'web',
      count: 500,
      cluster: 'a',
      region: 'eu-west-1',
      example_task: tasks[0]?.task.arn,
      detail: 'PROMETHEUS_PORT "x" is not a port in 1..65535',
    });
  });

  it('logs one info line per good round with clusters, tasks, targets per interval, API calls and duration', async () => {
    const { reader, discoverer, lines, fields } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);

    await discoverer.runRound();

    expect(lines).toEqual(['info first targets published', 'info round']);
    expect(fields[0]).toEqual({ targets: 1 });
    expect(fields[1]).toEqual({
      outcome: 'ok',
      clusters: 1,
      tasks: 1,
      pending: 0,
      targets_15s: 0,
      targets_30s: 0,
      targets_1m: 0,
      targets_5m: 0,
      targets_generic: 1,
      api_calls: 0,
      duration_ms: expect.any(Number) as number,
    });
  });

  it('sets the metrics of the round', async () => {
    const { reader, discoverer, metrics } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1'), fargateTask('a', 't2', '127.0.0.2', brokenDefinition)]);

    await discoverer.runRound();

    const value = async (metric: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> }, labels = {}) =>
      (await metric.get()).values.find((entry) => Object.entries(labels).every(([key, wanted]) => entry.labels[key] === wanted))?.value;
    expect(await value(metrics.targets, { interval: 'generic' })).toBe(1);
    expect(await value(metrics.skippedContainers, { reason: 'bad_port' })).toBe(1);
    expect(await value(metrics.skippedContainers, { reason: 'no_ip' })).toBe(0);
    expect(await value(metrics.tasks)).toBe(2);
    // The web container of both tasks carries the marker; the broken one is skipped.
    expect(await value(metrics.markedContainers)).toBe(2);
    expect(await value(metrics.clusters)).toBe(1);
    expect(await value(metrics.cacheSize, { cache: 'tasks' })).toBe(7);
    expect(await value(metrics.clusterLastSuccess, { cluster: 'a', region: 'eu-west-1' })).toBeGreaterThan(1_700_000_000);
    expect(await value(metrics.clusterTargets, { cluster: 'a', region: 'eu-west-1', interval: 'generic' })).toBe(1);
    expect(await value(metrics.clusterTargets, { cluster: 'a', region: 'eu-west-1', interval: '15s' })).toBe(0);
  });

  it('drops the per-cluster target counts of a cluster that is gone', async () => {
    const { reader, discoverer, metrics } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    reader.set('b', [fargateTask('b', 't2', '127.0.0.2')]);
    await discoverer.runRound();
    reader.clusterList = [ref('a')];

    await discoverer.runRound();

    const clusters = new Set((await metrics.clusterTargets.get()).values.map((entry) => entry.labels.cluster));
    expect([...clusters]).toEqual(['a']);
  });

  it('exports the longest block of the event loop during the round', async () => {
    const { reader, discoverer, metrics } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    const readCluster = reader.readCluster.bind(reader);
    reader.readCluster = async (cluster) => {
      // As a cluster whose resolution does not give way would: the loop is held for 150 ms.
      blockLoopFor(30);
      await afterLoopSample();
      blockLoopFor(150);
      await afterLoopSample();
      return readCluster(cluster);
    };

    await discoverer.runRound();

    const [blocked] = (await metrics.roundLoopBlock.get()).values;
    expect(blocked?.value).toBeGreaterThanOrEqual((150 - LOOP_SAMPLE_EVERY_MS) / 1000);
  });

  it('exports the interval setting, so that alert rules can count in intervals', async () => {
    const metrics = createMetrics({ intervalSeconds: 20 });

    expect(await metrics.registry.getSingleMetricAsString('ecs_discoverer_interval_seconds')).toMatch(/^ecs_discoverer_interval_seconds 20$/m);
  });

  it('hands how a first round goes to onProgress at its start and every second, and not for later rounds', async () => {
    vi.useFakeTimers();
    try {
      const { reader } = setup();
      const seen: ProgressFigures[] = [];
      const withProgress = new Discoverer({
        readers: [reader],
        resolveOptions,
        countRequests: () => 0,
        logger: silentLogger,
        metrics: createMetrics(),
        onProgress: (progress) => seen.push(progress),
      });
      reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
      const held = holdReadings(reader);

      const first = withProgress.runRound();
      await vi.advanceTimersByTimeAsync(3_001);
      held.release();
      await first;
      const duringFirst = seen.length;
      held.restore();
      await withProgress.runRound();
      await vi.advanceTimersByTimeAsync(3_000);

      expect(duringFirst).toBe(4);
      expect(seen.length).toBe(duringFirst);
      expect(seen.at(-1)).toMatchObject({ clustersListed: 1, clustersDone: 0, apiCalls: 0, throttled: 0 });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('Discoverer with events', () => {
  it('resolves a cluster again from what its reader caches, and publishes it without a round', async () => {
    // Prepare
    const { reader, discoverer, addresses, published } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    reader.set('b', [fargateTask('b', 't2', '127.0.0.2')]);
    await discoverer.runRound();
    const publishedByRound = published.length;
    reader.cached.set('a', [fargateTask('a', 't1', '127.0.0.1'), fargateTask('a', 't3', '127.0.0.3')]);

    // Act
    const refreshed = await discoverer.refreshCluster(clusterArn('a'));
    await discoverer.publishLatest();

    // Assess
    expect(refreshed).toBe(true);
    expect(published).toHaveLength(publishedByRound + 1);
    expect(addresses()).toEqual(['a 127.0.0.1:80', 'b 127.0.0.2:80', 'a 127.0.0.3:80']);
    expect(published.at(-1)?.clusters.find((state) => state.cluster.name === 'a')?.tasks).toBe(2);
  });

  it('resolves an event-changed cluster with the reader of its own account, where two accounts share a region and a cluster name', async () => {
    // Prepare: cluster "a" in two accounts of one region, one reader each.
    const readerIn = (account: string, cached: TaskContext[]) => {
      const reader = Object.assign(new FakeReader(), { account, role: `arn:aws:iam::${account}:role/discoverer` });
      reader.clusterList = [{ name: 'a', arn: clusterArn('a').replace('123456789012', account) }];
      reader.answers.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
      reader.cached.set('a', cached);
      return reader;
    };
    const first = readerIn('111111111111', [fargateTask('a', 't1', '127.0.0.1'), fargateTask('a', 't3', '127.0.0.3')]);
    const second = readerIn('222222222222', [fargateTask('a', 't1', '127.0.0.1')]);
    const published: Snapshot[] = [];
    const discoverer = new Discoverer({
      readers: [first, second],
      resolveOptions,
      publish: async (snapshot) => void published.push(snapshot),
      countRequests: () => 0,
      logger: silentLogger,
      metrics: createMetrics(),
    });
    await discoverer.runRound();

    // Act
    const refreshed = await discoverer.refreshCluster(clusterArn('a').replace('123456789012', '222222222222'));
    await discoverer.publishLatest();
    const tasksIn = (account: string) => published.at(-1)?.clusters.find((state) => state.cluster.arn.includes(account))?.tasks;

    // Assess: the second account's cluster was resolved from the second reader's caches (1 task), not the first's (2).
    expect(refreshed).toBe(true);
    expect(tasksIn('222222222222')).toBe(1);
    expect(tasksIn('111111111111')).toBe(1);
  });

  it('knows the clusters a round has listed, and no other', async () => {
    const { reader, discoverer } = setup();
    reader.set('a', []);
    await discoverer.runRound();

    expect(discoverer.hasCluster(clusterArn('a'))).toBe(true);
    expect(discoverer.hasCluster(clusterArn('new'))).toBe(false);
  });

  it('leaves a cluster not read afresh yet to its first reading: its targets of an earlier run stay', async () => {
    // Prepare
    const earlier: ClusterState = {
      region: 'eu-west-1',
      cluster: ref('a'),
      tasks: 0,
      pendingTasks: 0,
      targets: [toPublishedGroup({ interval: 'generic', cluster: 'a', address: '127.0.0.9:80', labels: { job: 'web' } })],
      skips: [],
      warnings: [],
      lastSuccessAt: undefined,
      error: undefined,
      restored: true,
    };
    const { reader, discoverer } = setup({ earlierStates: [earlier] });
    reader.cached.set('a', []);

    // Act
    const refreshed = await discoverer.refreshCluster(clusterArn('a'));

    // Assess
    expect(refreshed).toBe(false);
    expect(discoverer.hasCluster(clusterArn('a'))).toBe(true);
  });

  it('publishes nothing before the first publication of a round', async () => {
    const { discoverer, published } = setup();

    await discoverer.publishLatest();

    expect(published).toEqual([]);
  });

  it('resolves a cluster again from the caches after a round whose reading an event overtook', async () => {
    // Prepare: the event's task is in the caches, but not in the round's reading, which began before it.
    const { reader, discoverer, addresses } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    await discoverer.runRound();
    reader.duringRead = async () => {
      reader.cached.set('a', [fargateTask('a', 't1', '127.0.0.1'), fargateTask('a', 'e1', '127.0.0.5')]);
      await discoverer.refreshCluster(clusterArn('a'));
    };

    // Act
    await discoverer.runRound();

    // Assess
    expect(addresses()).toEqual(['a 127.0.0.1:80', 'a 127.0.0.5:80']);
  });

  it('sets the targets metric when it publishes', async () => {
    const { reader, discoverer, metrics } = setup();
    reader.set('a', [fargateTask('a', 't1', '127.0.0.1')]);
    await discoverer.runRound();
    reader.cached.set('a', [fargateTask('a', 't1', '127.0.0.1'), fargateTask('a', 't2', '127.0.0.2')]);

    await discoverer.refreshCluster(clusterArn('a'));
    await discoverer.publishLatest();

    expect((await metrics.targets.get()).values.find((entry) => entry.labels.interval === 'generic')?.value).toBe(2);
  });
});
