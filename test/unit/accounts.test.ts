import { describe, expect, it } from 'vitest';
import { toTaskDefinitionRecord, toTaskRecord, type ClusterRef } from '../../src/discovery/model.js';
import type { TaskContext } from '../../src/discovery/resolveTargets.js';
import type { TargetGroup } from '../../src/discovery/targetGroups.js';
import { Discoverer } from '../../src/discoverer.js';
import { AssumeRoleError } from '../../src/errors.js';
import type { LogFields, Logger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import type { ClusterReading, ClusterState, RegionReader, Snapshot } from '../../src/round.js';
import { makeTask, makeTaskDefinition } from '../../src/fake/fleet.js';
import { DEFAULT_OPTIONS } from '../fixtures/ecsFixtures.js';

/**
 * One process, several accounts and regions: each reader (account, region) is read on its own;
 * one whose role cannot be assumed keeps its clusters' last good targets and is said once per
 * round, while the others go on. Cluster names repeat across accounts: each is its own cluster.
 */

const A = '111111111111';
const B = '222222222222';
const roleOf = (account: string) => `arn:aws:iam::${account}:role/discoverer`;
const definition = makeTaskDefinition('web', 1, 'awsvpc', [{ name: 'web', environment: { PROMETHEUS: '1' } }]);

/** A hand-written reader of one account and region: its clusters answer one Fargate task each, or its listing fails. */
class AccountReader implements RegionReader {
  readonly role: string;
  failure: Error | undefined;
  readonly #clusters: { ref: ClusterRef; ip: string }[];

  constructor(
    readonly account: string,
    readonly region: string,
    clusters: Record<string, string>,
  ) {
    this.role = roleOf(account);
    this.#clusters = Object.entries(clusters).map(([name, ip]) => ({ ref: { name, arn: `arn:aws:ecs:${region}:${account}:cluster/${name}` }, ip }));
  }

  async listClusters(): Promise<ClusterRef[]> {
    if (this.failure) throw this.failure;
    return this.#clusters.map((cluster) => cluster.ref);
  }

  async readCluster(cluster: ClusterRef): Promise<ClusterReading> {
    const ip = this.#clusters.find((candidate) => candidate.ref.arn === cluster.arn)?.ip ?? '127.0.0.1';
    const task = toTaskRecord(makeTask({ cluster: cluster.name, id: `${this.account}-${cluster.name}`, definition, launchType: 'FARGATE', eniIp: ip, containers: [{ name: 'web' }] }));
    const context: TaskContext = {
      region: this.region,
      cluster,
      task: task!,
      definition: toTaskDefinitionRecord(definition.taskDefinitionArn as string, definition),
      host: undefined,
    };
    return { cluster, tasks: [context], pendingTasks: 0 };
  }

  describeAgain(): void {}

  cacheSizes() {
    return { tasks: 1 };
  }
}

function setup(earlierStates: ClusterState[] = []) {
  const readers = [
    new AccountReader(A, 'eu-west-1', { prod: '127.0.1.1' }),
    new AccountReader(A, 'us-east-1', { prod: '127.0.1.2' }),
    new AccountReader(B, 'eu-west-1', { prod: '127.0.2.1' }),
    new AccountReader(B, 'us-east-1', { prod: '127.0.2.2', batch: '127.0.2.3' }),
  ];
  const published: Snapshot[] = [];
  const lines: { level: string; message: string; fields: LogFields }[] = [];
  const record = (level: string) => (message: string, fields: LogFields = {}) => lines.push({ level, message, fields });
  const logger: Logger = { debug: () => {}, info: record('info'), warn: record('warn'), error: record('error') };
  const metrics = createMetrics();
  const discoverer = new Discoverer({
    readers,
    resolveOptions: DEFAULT_OPTIONS,
    publish: async (snapshot) => {
      published.push(snapshot);
    },
    countRequests: () => 0,
    logger,
    metrics,
    earlierStates,
  });
  /** Every published target as "account region cluster address". */
  const targets = () =>
    (published.at(-1)?.groups.generic ?? [])
      .map((group) => JSON.parse(group.json) as TargetGroup)
      .map((group) => `${group.labels['__meta_ecs_account_id']} ${group.labels['__meta_ecs_region']} ${group.labels['cluster']} ${group.targets[0]}`)
      .sort();
  return { readers, discoverer, lines, metrics, targets };
}

const denied = () => new AssumeRoleError(`the role cannot be assumed: AccessDenied: User is not authorized to perform: sts:AssumeRole on resource: ${roleOf(B)}`);

describe('several accounts and regions', () => {
  it('reads every account and region, and keeps clusters of one name in two accounts apart', async () => {
    const { discoverer, targets } = setup();

    const { report, snapshot } = await discoverer.runRound();

    expect(report.outcome).toBe('ok');
    expect(snapshot.clusters.map((state) => state.cluster.arn).sort()).toEqual([
      `arn:aws:ecs:eu-west-1:${A}:cluster/prod`,
      `arn:aws:ecs:eu-west-1:${B}:cluster/prod`,
      `arn:aws:ecs:us-east-1:${A}:cluster/prod`,
      `arn:aws:ecs:us-east-1:${B}:cluster/batch`,
      `arn:aws:ecs:us-east-1:${B}:cluster/prod`,
    ]);
    expect(targets()).toEqual([
      `${A} eu-west-1 prod 127.0.1.1:80`,
      `${A} us-east-1 prod 127.0.1.2:80`,
      `${B} eu-west-1 prod 127.0.2.1:80`,
      `${B} us-east-1 batch 127.0.2.3:80`,
      `${B} us-east-1 prod 127.0.2.2:80`,
    ]);
    expect(report.readers).toEqual([
      { account: A, region: 'eu-west-1', role: roleOf(A), clusters: 1 },
      { account: A, region: 'us-east-1', role: roleOf(A), clusters: 1 },
      { account: B, region: 'eu-west-1', role: roleOf(B), clusters: 1 },
      { account: B, region: 'us-east-1', role: roleOf(B), clusters: 2 },
    ]);
  });

  it('keeps the last good targets of an account whose role cannot be assumed, says so once per round, and goes on with the others', async () => {
    const { readers, discoverer, lines, targets } = setup();
    const before = (await discoverer.runRound(), targets());
    for (const reader of readers.filter((candidate) => candidate.account === B)) reader.failure = denied();

    for (let round = 1; round <= 2; round++) {
      const linesBefore = lines.length;
      const { report, snapshot } = await discoverer.runRound();

      expect(report.outcome).toBe('partial');
      expect(targets()).toEqual(before);
      const roleLines = lines.slice(linesBefore).filter((line) => line.message.includes(roleOf(B)));
      expect(roleLines, `round ${round}`).toEqual([
        {
          level: 'warn',
          message: `role ${roleOf(B)} (account ${B}) in eu-west-1, us-east-1: clusters kept from the last good round: AssumeRoleError: the role cannot be assumed: AccessDenied: User is not authorized to perform: sts:AssumeRole on resource: ${roleOf(B)}`,
          fields: expect.objectContaining({ role: roleOf(B), account: B, regions: 'eu-west-1,us-east-1' }) as LogFields,
        },
      ]);
      expect(report.failures).toEqual([roleLines[0]?.message]);
      expect(snapshot.clusters.filter((state) => state.error !== undefined).map((state) => state.cluster.arn).sort()).toEqual([
        `arn:aws:ecs:eu-west-1:${B}:cluster/prod`,
        `arn:aws:ecs:us-east-1:${B}:cluster/batch`,
        `arn:aws:ecs:us-east-1:${B}:cluster/prod`,
      ]);
      expect(report.readers?.filter((reader) => reader.error !== undefined).map((reader) => `${reader.account} ${reader.region}`)).toEqual([
        `${B} eu-west-1`,
        `${B} us-east-1`,
      ]);
    }
  });

  it('shows each account and region in the metrics, and each cluster with its account', async () => {
    const { readers, discoverer, metrics } = setup();
    await discoverer.runRound();
    readers[2]!.failure = denied();
    readers[3]!.failure = denied();

    await discoverer.runRound();

    const text = await metrics.registry.metrics();
    expect(text).toContain(`ecs_discoverer_account_up{account="${A}",region="eu-west-1"} 1`);
    expect(text).toContain(`ecs_discoverer_account_up{account="${B}",region="us-east-1"} 0`);
    expect(text).toMatch(new RegExp(`ecs_discoverer_cluster_last_success_timestamp_seconds\\{account="${B}",region="eu-west-1",cluster="prod"\\} \\d+`));
    expect(text).toMatch(new RegExp(`ecs_discoverer_cluster_last_success_timestamp_seconds\\{account="${A}",region="eu-west-1",cluster="prod"\\} \\d+`));
  });

  it('drops the clusters one account no longer lists, and only that account\'s', async () => {
    const { readers, discoverer, targets } = setup();
    await discoverer.runRound();
    const onlyBatch = new AccountReader(B, 'us-east-1', { batch: '127.0.2.3' });
    readers[3]!.listClusters = () => onlyBatch.listClusters();

    await discoverer.runRound();

    expect(targets()).toEqual([
      `${A} eu-west-1 prod 127.0.1.1:80`,
      `${A} us-east-1 prod 127.0.1.2:80`,
      `${B} eu-west-1 prod 127.0.2.1:80`,
      `${B} us-east-1 batch 127.0.2.3:80`,
    ]);
  });

  it('keeps, from the files of an earlier run, the targets of an account denied from the start, but not those of an account no longer read', async () => {
    const earlier = (account: string, address: string): ClusterState => ({
      region: 'eu-west-1',
      cluster: { name: 'prod', arn: `arn:aws:ecs:eu-west-1:${account}:cluster/prod` },
      tasks: 0,
      pendingTasks: 0,
      targets: [{ interval: 'generic', cluster: 'prod', json: JSON.stringify({ targets: [address], labels: { __meta_ecs_account_id: account, __meta_ecs_region: 'eu-west-1', cluster: 'prod' } }) }],
      skips: [],
      warnings: [],
      lastSuccessAt: undefined,
      error: undefined,
      restored: true,
    });
    const { readers, discoverer, targets } = setup([earlier(B, '127.0.9.1:80'), earlier('333333333333', '127.0.9.3:80')]);
    for (const reader of readers.filter((candidate) => candidate.account === B)) reader.failure = denied();

    const { report } = await discoverer.runRound();

    expect(report.outcome).toBe('partial');
    expect(targets()).toEqual([`${A} eu-west-1 prod 127.0.1.1:80`, `${A} us-east-1 prod 127.0.1.2:80`, `${B} eu-west-1 prod 127.0.9.1:80`]);
  });
});
