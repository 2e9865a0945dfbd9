import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventMessage, TaskChange } from '../../src/aws/eventMessages.js';
import { toTaskRecord, type ClusterRef, type TaskRecord } from '../../src/discovery/model.js';
import { TaskVersions } from '../../src/discovery/taskEvents.js';
import { EventApplier, type EventReader } from '../../src/eventApplier.js';
import type { Logger } from '../../src/log.js';
import { ACCOUNT, clusterArn, makeTask, makeTaskDefinition, taskArn } from '../../src/fake/fleet.js';

const definition = makeTaskDefinition('web', 1, 'awsvpc', [{ name: 'web', environment: { PROMETHEUS: '1' } }]);

function change(cluster: string, id: string, version: number, state: TaskChange['state'] = 'running', region = 'eu-west-1'): TaskChange {
  const task = toTaskRecord(makeTask({ cluster, id, definition, launchType: 'FARGATE', eniIp: '127.0.0.1', containers: [{ name: 'web' }] })) as TaskRecord;
  return { kind: 'task', region, clusterArn: clusterArn(cluster), taskArn: taskArn(cluster, id), version, state, task };
}

/** A hand-written reader: records what it was given; fails when told to. */
class FakeReader implements EventReader {
  readonly region = 'eu-west-1';
  constructor(
    readonly account?: string,
    readonly role?: string,
  ) {}
  readonly applied: { cluster: string; running: string[]; stopped: string[] }[] = [];
  readonly instances = new Map<string, string>();
  failing: Error | undefined;

  async applyTaskStates(cluster: ClusterRef, running: readonly TaskRecord[], stopped: readonly string[]): Promise<void> {
    await Promise.resolve();
    if (this.failing) throw this.failing;
    this.applied.push({ cluster: cluster.name, running: running.map((task) => task.arn), stopped: [...stopped] });
  }

  learnContainerInstance(containerInstanceArn: string, instanceId: string): void {
    this.instances.set(containerInstanceArn, instanceId);
  }
}

function setup({ known = ['prod'], account, role }: { known?: string[]; account?: string; role?: string } = {}) {
  const reader = new FakeReader(account, role);
  const refreshed: string[] = [];
  let publications = 0;
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (message) => warnings.push(message), error() {} };
  const versions = new TaskVersions();
  const applier = new EventApplier({
    readers: [reader],
    discoverer: {
      hasCluster: (arn) => known.some((name) => clusterArn(name) === arn),
      refreshCluster: async (arn) => {
        refreshed.push(arn);
        return true;
      },
      publishLatest: async () => {
        publications += 1;
      },
    },
    versions,
    logger,
  });
  return { reader, refreshed, publications: () => publications, warnings, versions, applier };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('EventApplier', () => {
  it('applies running and stopped tasks to their cluster at once, resolves it again, and publishes once for the batch', async () => {
    // Prepare
    const { reader, refreshed, publications, applier } = setup();

    // Act
    const outcomes = await applier.apply([change('prod', 'a', 2), change('prod', 'b', 4, 'stopped'), change('prod', 'c', 2)]);
    await vi.advanceTimersByTimeAsync(1000);

    // Assess
    expect(outcomes).toEqual(['applied', 'applied', 'applied']);
    expect(reader.applied).toEqual([{ cluster: 'prod', running: [taskArn('prod', 'a'), taskArn('prod', 'c')], stopped: [taskArn('prod', 'b')] }]);
    expect(refreshed).toEqual([clusterArn('prod')]);
    expect(publications()).toBe(1);
  });

  it('takes the newest change of a task in a batch, and calls the others stale', async () => {
    const { reader, applier } = setup();

    const outcomes = await applier.apply([change('prod', 'a', 3, 'stopped'), change('prod', 'a', 2, 'running'), change('prod', 'a', 3, 'stopped')]);

    expect(outcomes).toEqual(['applied', 'stale', 'stale']);
    expect(reader.applied).toEqual([{ cluster: 'prod', running: [], stopped: [taskArn('prod', 'a')] }]);
  });

  it('calls stale a change no newer than one applied or described before: a duplicate, or a late event', async () => {
    // Prepare
    const { reader, versions, applier } = setup();
    await applier.apply([change('prod', 'a', 5, 'stopped')]);
    versions.note(taskArn('prod', 'b'), 7);

    // Act
    const outcomes = await applier.apply([change('prod', 'a', 5, 'stopped'), change('prod', 'a', 2), change('prod', 'b', 7)]);

    // Assess
    expect(outcomes).toEqual(['stale', 'stale', 'stale']);
    expect(reader.applied).toHaveLength(1);
  });

  it('ignores tasks of clusters or regions it does not read, tasks not running yet, and other events; counts unreadable ones', async () => {
    const { reader, publications, applier } = setup();
    const messages: EventMessage[] = [
      change('other', 'a', 2),
      change('prod', 'b', 2, 'running', 'us-east-1'),
      change('prod', 'c', 1, 'starting'),
      { kind: 'ignored', reason: 'aws.ecs "ECS Service Action" events are not used' },
      { kind: 'unreadable', reason: 'not JSON' },
    ];

    const outcomes = await applier.apply(messages);
    await vi.advanceTimersByTimeAsync(1000);

    expect(outcomes).toEqual(['ignored', 'ignored', 'ignored', 'ignored', 'unreadable']);
    expect(reader.applied).toEqual([]);
    expect(publications()).toBe(0);
  });

  it('leaves the changes of a cluster whose tasks cannot be read to come again, and takes them when they do', async () => {
    // Prepare
    const { reader, warnings, applier } = setup();
    reader.failing = new Error('DescribeTaskDefinition failed: ThrottlingException');

    // Act
    const failed = await applier.apply([change('prod', 'a', 2)]);
    reader.failing = undefined;
    const again = await applier.apply([change('prod', 'a', 2)]);

    // Assess
    expect(failed).toEqual(['failed']);
    expect(warnings).toEqual([expect.stringContaining('1 changes of cluster prod (eu-west-1) not applied')]);
    expect(again).toEqual(['applied']);
  });

  it('names the account of a cluster whose changes were not applied when it reads through a role, as a round names it', async () => {
    const throughRole = setup({ account: ACCOUNT, role: `arn:aws:iam::${ACCOUNT}:role/discoverer` });
    const ownAccount = setup({ account: ACCOUNT });
    for (const { reader } of [throughRole, ownAccount]) reader.failing = new Error('DescribeTaskDefinition failed: ThrottlingException');

    await throughRole.applier.apply([change('prod', 'a', 2)]);
    await ownAccount.applier.apply([change('prod', 'a', 2)]);

    expect(throughRole.warnings).toEqual([expect.stringContaining(`1 changes of cluster prod (${ACCOUNT}, eu-west-1) not applied`)]);
    expect(ownAccount.warnings).toEqual([expect.stringContaining('1 changes of cluster prod (eu-west-1) not applied')]);
  });

  it('learns which EC2 instance a container instance is', async () => {
    const { reader, applier } = setup();

    const outcomes = await applier.apply([
      { kind: 'containerInstance', region: 'eu-west-1', clusterArn: clusterArn('prod'), containerInstanceArn: 'ci-1', ec2InstanceId: 'i-1' },
    ]);

    expect(outcomes).toEqual(['applied']);
    expect(reader.instances.get('ci-1')).toBe('i-1');
  });

  it('publishes what was applied when flushed (stopping), without waiting', async () => {
    const { publications, applier } = setup();
    await applier.apply([change('prod', 'a', 2)]);

    await applier.flush();

    expect(publications()).toBe(1);
  });
});

describe('EventApplier with several accounts (aws.roles)', () => {
  it("hands each event to the reader of its cluster's account and region", async () => {
    // Prepare: the same cluster name in two accounts, one reader each, in one region.
    const readerOf = (account: string) => Object.assign(new FakeReader(), { account });
    const first = readerOf('111111111111');
    const second = readerOf('222222222222');
    const arnIn = (account: string) => clusterArn('prod').replace('123456789012', account);
    const applier = new EventApplier({
      readers: [first, second],
      discoverer: { hasCluster: () => true, refreshCluster: async () => true, publishLatest: async () => {} },
      versions: new TaskVersions(),
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const inAccount = (account: string, id: string): TaskChange => {
      const given = change('prod', id, 1);
      const arn = taskArn('prod', id).replace('123456789012', account);
      return { ...given, clusterArn: arnIn(account), taskArn: arn, ...(given.kind === 'task' && { task: { ...given.task, arn } }) };
    };

    // Act
    await applier.apply([inAccount('222222222222', 'b'), inAccount('111111111111', 'a')]);
    await vi.advanceTimersByTimeAsync(1000);

    // Assess
    expect(first.applied.map((applied) => applied.running)).toEqual([[taskArn('prod', 'a').replace('123456789012', '111111111111')]]);
    expect(second.applied.map((applied) => applied.running)).toEqual([[taskArn('prod', 'b').replace('123456789012', '222222222222')]]);
  });
});
