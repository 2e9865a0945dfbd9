import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient, ListClustersCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AssumeRoleCommand, STSClient as AssumeRoleStsClient } from '@aws-sdk/nested-clients/sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { AssumeRoleError } from '../../src/errors.js';
import type { LogFields, Logger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { createReaders } from '../../src/readers.js';
import { makeTask, makeTaskDefinition } from '../../src/fake/fleet.js';

/**
 * The readers of a process: one per account (a role of aws.roles, or the process's own
 * credentials) and region, with credentials from the SDK's providers (STS mocked), and the
 * account of each.
 */

const ecsMock = mockClient(ECSClient);
/** The STS client of @aws-sdk/credential-providers' fromTemporaryCredentials. */
const assumeRoleMock = mockClient(AssumeRoleStsClient);
/** The STS client that asks GetCallerIdentity. */
const callerMock = mockClient(STSClient);

const A = '111111111111';
const B = '222222222222';
const roleOf = (account: string) => `arn:aws:iam::${account}:role/discoverer`;
const clusterArnOf = (account: string, region: string) => `arn:aws:ecs:${region}:${account}:cluster/prod`;

let stopping: AbortController;
beforeEach(() => {
  ecsMock.reset();
  assumeRoleMock.reset();
  callerMock.reset();
  stopping = new AbortController();
  process.env['AWS_ACCESS_KEY_ID'] = 'AKIDFAKE';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'fake-secret';
});
afterEach(() => {
  stopping.abort();
  delete process.env['AWS_ACCESS_KEY_ID'];
  delete process.env['AWS_SECRET_ACCESS_KEY'];
});

async function configWith(settings: object): Promise<Config> {
  const file = join(await mkdtemp(join(tmpdir(), 'readers-')), 'settings.json');
  await writeFile(file, JSON.stringify(settings));
  return loadConfig({ env: {}, configFile: file });
}

function recordingLogger() {
  const warnings: { message: string; fields: LogFields | undefined }[] = [];
  const logger: Logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (message, fields) => warnings.push({ message, fields }) };
  return { logger, warnings };
}

const assumed = (account: string) => ({
  Credentials: {
    AccessKeyId: `ASIA${account}0001`,
    SecretAccessKey: 'fake-secret',
    SessionToken: 'fake-token',
    Expiration: new Date(Date.now() + 3_600_000),
  },
});

describe('createReaders with roles', () => {
  it('makes one reader per role and region, of the role\'s account, and assumes each role once for all its regions', async () => {
    // Prepare
    const config = await configWith({
      aws: {
        regions: ['eu-west-1', 'us-east-1'],
        roles: [{ arn: roleOf(A), externalId: 'central-42' }, { arn: roleOf(B), sessionName: 'ecs-sd' }],
      },
    });
    assumeRoleMock.on(AssumeRoleCommand, { RoleArn: roleOf(A) }).resolves(assumed(A));
    assumeRoleMock.on(AssumeRoleCommand, { RoleArn: roleOf(B) }).resolves(assumed(B));
    ecsMock.on(ListClustersCommand).callsFake(async (_input, getClient: () => ECSClient) => {
      const region = await getClient().config.region();
      return { clusterArns: [clusterArnOf('000000000000', region)] };
    });
    const { logger } = recordingLogger();

    // Act
    const { readers } = await createReaders(config, createMetrics(), stopping.signal, logger);
    await Promise.all(readers.map((reader) => reader.listClusters()));

    // Assess
    expect(readers.map((reader) => [reader.account, reader.region, reader.role])).toEqual([
      [A, 'eu-west-1', roleOf(A)],
      [A, 'us-east-1', roleOf(A)],
      [B, 'eu-west-1', roleOf(B)],
      [B, 'us-east-1', roleOf(B)],
    ]);
    expect(assumeRoleMock.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input)).toEqual([
      { RoleArn: roleOf(A), RoleSessionName: 'prometheus-ecs-discoverer', ExternalId: 'central-42' },
      { RoleArn: roleOf(B), RoleSessionName: 'ecs-sd' },
    ]);
    // The role's account, not the caller's: no GetCallerIdentity with roles.
    expect(callerMock.commandCalls(GetCallerIdentityCommand)).toEqual([]);
  });

  it('fails only the readers of a role that cannot be assumed, with STS\'s reason, and again next round', async () => {
    // Prepare
    const config = await configWith({ aws: { regions: ['eu-west-1', 'us-east-1'], roles: [{ arn: roleOf(A) }, { arn: roleOf(B) }] } });
    const denied = Object.assign(new Error(`User: arn:aws:iam::123456789012:user/discoverer is not authorized to perform: sts:AssumeRole on resource: ${roleOf(B)}`), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    assumeRoleMock.on(AssumeRoleCommand, { RoleArn: roleOf(A) }).resolves(assumed(A));
    assumeRoleMock.on(AssumeRoleCommand, { RoleArn: roleOf(B) }).rejects(denied);
    ecsMock.on(ListClustersCommand).resolves({ clusterArns: [clusterArnOf(A, 'eu-west-1')] });
    const { readers } = await createReaders(config, createMetrics(), stopping.signal, recordingLogger().logger);

    // Act
    const first = await Promise.allSettled(readers.map((reader) => reader.listClusters()));
    const second = await Promise.allSettled(readers.map((reader) => reader.listClusters()));

    // Assess
    for (const round of [first, second]) {
      expect(round.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
      for (const result of round.slice(2)) {
        const reason = (result as PromiseRejectedResult).reason as Error;
        expect(reason).toBeInstanceOf(AssumeRoleError);
        expect(reason.message).toBe(`the role cannot be assumed: AccessDenied: ${denied.message}`);
      }
    }
    // Only the good role's readers asked ECS anything; the denied role is asked for again each round.
    expect(ecsMock.commandCalls(ListClustersCommand)).toHaveLength(4);
    expect(assumeRoleMock.commandCalls(AssumeRoleCommand, { RoleArn: roleOf(B) }).length).toBeGreaterThanOrEqual(2);
    expect(assumeRoleMock.commandCalls(AssumeRoleCommand, { RoleArn: roleOf(A) })).toHaveLength(1);
  });

  it('gives each account and region caches of its own', async () => {
    const config = await configWith({ aws: { regions: ['eu-west-1'], roles: [{ arn: roleOf(A) }, { arn: roleOf(B) }] } });
    assumeRoleMock.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => assumed(input.RoleArn.split(':')[4] ?? ''));
    const definition = makeTaskDefinition('web', 1, 'awsvpc', [{ name: 'web', environment: { PROMETHEUS: 'true' } }]);
    const task = makeTask({ cluster: 'prod', id: 't1', definition, launchType: 'FARGATE', eniIp: '127.0.0.1', containers: [{ name: 'web' }] });
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [task.taskArn!] });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task] });
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: definition });
    const [readerA, readerB] = (await createReaders(config, createMetrics(), stopping.signal, recordingLogger().logger)).readers;

    const reading = await readerA!.readCluster({ name: 'prod', arn: clusterArnOf(A, 'eu-west-1') });

    expect(reading.tasks).toHaveLength(1);
    expect(readerA!.cacheSizes()).toMatchObject({ tasks: 1, task_definitions: 1 });
    // The other account has described nothing: the same task ARN would be described again there.
    expect(readerB!.cacheSizes()).toEqual({ tasks: 0, task_definitions: 0, container_instances: 0, ec2_instances: 0, managed_instances: 0 });
  });
});

describe('createReaders with the process\'s own credentials', () => {
  it('asks GetCallerIdentity once for every region, and takes the account it answers', async () => {
    const config = await configWith({ aws: { regions: ['eu-west-1', 'us-east-1'] } });
    callerMock.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/discoverer', UserId: 'AKIDFAKE' });

    const { readers } = await createReaders(config, createMetrics(), stopping.signal, recordingLogger().logger);
    await expect.poll(() => readers.map((reader) => reader.account)).toEqual(['123456789012', '123456789012']);

    expect(readers.map((reader) => [reader.region, reader.role])).toEqual([
      ['eu-west-1', undefined],
      ['us-east-1', undefined],
    ]);
    expect(callerMock.commandCalls(GetCallerIdentityCommand)).toHaveLength(1);
    expect(assumeRoleMock.commandCalls(AssumeRoleCommand)).toEqual([]);
  });

  it('says nothing when GetCallerIdentity is stopped with the process (or after the one round of --once)', async () => {
    const config = await configWith({ aws: { regions: ['eu-west-1'] } });
    let stop!: (error: Error) => void;
    const stopped = new Promise<string>((_, reject) => (stop = reject));
    const { logger, warnings } = recordingLogger();

    await createReaders(config, createMetrics(), stopping.signal, logger, {
      factories: { roleCredentials: () => Promise.reject(new Error('no role is set')), callerAccount: () => stopped },
    });
    stop(Object.assign(new Error('the round is over'), { name: 'AbortError' }));
    // The readers' handler was attached first: it has run once ours has, and a turn has passed.
    await stopped.catch(() => {});
    await new Promise((resolve) => setImmediate(resolve));

    expect(warnings).toEqual([]);
  });

  it('does not wait for GetCallerIdentity: when it fails, says so once, and takes the account of the first cluster ARN listed', async () => {
    const config = await configWith({ aws: { regions: ['eu-west-1'] } });
    callerMock.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' }));
    ecsMock.on(ListClustersCommand).resolves({ clusterArns: [clusterArnOf('123456789012', 'eu-west-1')] });
    const { logger, warnings } = recordingLogger();

    const { readers } = await createReaders(config, createMetrics(), stopping.signal, logger);
    const [reader] = readers;
    await expect.poll(() => warnings.length).toBe(1);
    expect(reader!.account).toBeUndefined();
    await reader!.listClusters();

    expect(reader!.account).toBe('123456789012');
    expect(warnings).toEqual([
      {
        message: "the account of the process's own credentials is not known: sts:GetCallerIdentity failed; it is taken from the cluster ARNs listed",
        fields: { error: 'TimeoutError: connect ETIMEDOUT' },
      },
    ]);
  });
});
