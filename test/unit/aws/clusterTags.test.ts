import { DescribeClustersCommand, ECSClient, ServerException } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ClusterTags } from '../../../src/aws/clusterTags.js';
import { AwsError } from '../../../src/errors.js';
import type { ClusterRef } from '../../../src/discovery/model.js';

const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({ region: 'eu-west-1' });

const clusters = (count: number): ClusterRef[] =>
  Array.from({ length: count }, (_, index) => ({ name: `c${index}`, arn: `arn:aws:ecs:eu-west-1:123456789012:cluster/c${index}` }));

/** DescribeClusters as ECS answers it: the clusters asked for, with a tag naming each. */
function answerWithTags(team = 'payments') {
  ecsMock.on(DescribeClustersCommand).callsFake((input: { clusters: string[]; include?: string[] }) => ({
    clusters: input.clusters.map((arn) => ({
      clusterArn: arn,
      clusterName: arn.split('/')[1],
      ...(input.include?.includes('TAGS') && { tags: [{ key: 'team', value: team }, { key: 'name', value: arn.split('/')[1] }] }),
    })),
    failures: [],
  }));
}

beforeEach(() => {
  ecsMock.reset();
});

describe('ClusterTags', () => {
  it('describes the clusters with their tags, 100 a call', async () => {
    answerWithTags();
    const tags = new ClusterTags({ ecs, refreshMs: 300_000 });

    const tagged = await tags.tag(clusters(250));

    expect(ecsMock.commandCalls(DescribeClustersCommand).map((call) => [call.args[0].input.clusters?.length, call.args[0].input.include])).toEqual([
      [100, ['TAGS']],
      [100, ['TAGS']],
      [50, ['TAGS']],
    ]);
    expect(tagged[249]).toEqual({ name: 'c249', arn: clusters(250)[249]!.arn, tags: { team: 'payments', name: 'c249' } });
  });

  it('asks again only once the refresh period has passed, and keeps the same tags object while the tags do not change', async () => {
    answerWithTags();
    let now = 0;
    const tags = new ClusterTags({ ecs, refreshMs: 300_000, now: () => now });
    const first = await tags.tag(clusters(2));

    now = 299_999;
    const cached = await tags.tag(clusters(2));
    now = 300_000;
    const refreshed = await tags.tag(clusters(2));

    expect(ecsMock.commandCalls(DescribeClustersCommand)).toHaveLength(2);
    expect(cached[0]?.tags).toBe(first[0]?.tags);
    expect(refreshed[0]?.tags).toBe(first[0]?.tags);
    answerWithTags('search');
    now = 600_000;
    expect((await tags.tag(clusters(2)))[0]?.tags).toEqual({ team: 'search', name: 'c0' });
  });

  it('keeps the tags it knows when a refresh fails, and fails when it knows none', async () => {
    answerWithTags();
    let now = 0;
    const tags = new ClusterTags({ ecs, refreshMs: 300_000, now: () => now });
    await tags.tag(clusters(1));
    ecsMock.on(DescribeClustersCommand).rejects(new ServerException({ message: 'Internal failure', $metadata: {} }));
    now = 300_000;

    const stale = await tags.tag(clusters(1));

    expect(stale[0]?.tags).toEqual({ team: 'payments', name: 'c0' });
    await expect(tags.tag(clusters(2))).rejects.toThrow(new AwsError('DescribeClusters failed: ServerException: Internal failure'));
  });

  it('gives a cluster that has gone since it was listed no tags, and forgets the clusters no longer listed', async () => {
    ecsMock.on(DescribeClustersCommand).resolves({ clusters: [], failures: [{ arn: clusters(1)[0]!.arn, reason: 'MISSING' }] });
    const tags = new ClusterTags({ ecs, refreshMs: 0 });

    expect(await tags.tag(clusters(1))).toEqual([{ ...clusters(1)[0], tags: {} }]);
    await tags.tag([]);
    await tags.tag(clusters(1));
    expect(ecsMock.commandCalls(DescribeClustersCommand)).toHaveLength(2);
  });
});
