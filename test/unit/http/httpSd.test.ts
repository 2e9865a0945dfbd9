import { describe, expect, it } from 'vitest';
import type { IntervalName } from '../../../src/discovery/endpoints.js';
import { parseMatchers } from '../../../src/discovery/matchers.js';
import { shardOf } from '../../../src/discovery/shards.js';
import { toStaticPublishedGroups } from '../../../src/discovery/staticGroups.js';
import { toPublishedGroup, type GroupsByInterval, type PublishedGroup, type TargetGroup } from '../../../src/discovery/targetGroups.js';
import { filterKey, parseTargetFilter, toHttpSdJson, type TargetFilter } from '../../../src/http/httpSd.js';

const group = (address: string, cluster: string) => ({
  targets: [address],
  labels: { __meta_ecs_cluster: cluster, instance: address, job: 'app' },
});
const published = (interval: IntervalName, address: string, cluster: string) =>
  toPublishedGroup({ interval, cluster, address, labels: group(address, cluster).labels });

const groups: GroupsByInterval = {
  generic: [published('generic', '127.0.0.1:80', 'prod')],
  '15s': [published('15s', '127.0.0.2:80', 'prod')],
  '30s': [published('30s', '127.0.0.3:80', 'staging')],
  '1m': [],
  '5m': [published('5m', '127.0.0.5:80', 'prod')],
};

const toHttpSdGroups = (all: GroupsByInterval, filter?: TargetFilter) => JSON.parse(toHttpSdJson(all, filter)) as TargetGroup[];

describe('toHttpSdJson', () => {
  it('serves every group, with scrape interval and timeout on interval groups only', () => {
    const served = toHttpSdGroups(groups);

    expect(served).toEqual([
      {
        targets: ['127.0.0.2:80'],
        labels: { ...group('127.0.0.2:80', 'prod').labels, __scrape_interval__: '15s', __scrape_timeout__: '10s' },
      },
      { targets: ['127.0.0.3:80'], labels: { ...group('127.0.0.3:80', 'staging').labels, __scrape_interval__: '30s', __scrape_timeout__: '10s' } },
      { targets: ['127.0.0.5:80'], labels: { ...group('127.0.0.5:80', 'prod').labels, __scrape_interval__: '5m', __scrape_timeout__: '10s' } },
      group('127.0.0.1:80', 'prod'),
    ]);
  });

  it('filters by interval and by cluster', () => {
    expect(toHttpSdGroups(groups, { interval: '30s' }).map((served) => served.targets[0])).toEqual(['127.0.0.3:80']);
    expect(toHttpSdGroups(groups, { cluster: 'prod' }).map((served) => served.targets[0])).toEqual([
      '127.0.0.2:80',
      '127.0.0.5:80',
      '127.0.0.1:80',
    ]);
    expect(toHttpSdGroups(groups, { interval: '1m', cluster: 'prod' })).toEqual([]);
  });

  it('adds the scrape labels to a group without labels too', () => {
    const bare: GroupsByInterval = { ...groups, '1m': [{ interval: '1m', cluster: 'prod', json: '{"targets":["127.0.0.9:80"],"labels":{}}' }] };

    expect(toHttpSdGroups(bare, { interval: '1m' })).toEqual([
      { targets: ['127.0.0.9:80'], labels: { __scrape_interval__: '1m', __scrape_timeout__: '10s' } },
    ]);
  });

  it('never gives a timeout longer than the interval', () => {
    for (const served of toHttpSdGroups(groups)) {
      const interval = served.labels['__scrape_interval__'];
      if (interval === undefined) continue;
      const seconds = (text: string) => (text.endsWith('m') ? Number(text.slice(0, -1)) * 60 : Number(text.slice(0, -1)));
      expect(seconds(served.labels['__scrape_timeout__'] ?? '')).toBeLessThanOrEqual(seconds(interval));
    }
  });
});

describe('parseTargetFilter', () => {
  it('reads interval, cluster, account and region', () => {
    expect(parseTargetFilter(new URLSearchParams('interval=1m&cluster=prod'))).toEqual({ filter: { interval: '1m', cluster: 'prod' } });
    expect(parseTargetFilter(new URLSearchParams('interval=generic'))).toEqual({ filter: { interval: 'generic' } });
    expect(parseTargetFilter(new URLSearchParams('account=222222222222&region=us-east-1&cluster=prod'))).toEqual({
      filter: { account: '222222222222', region: 'us-east-1', cluster: 'prod' },
    });
  });

  it.each([
    ['interval=2m', 'interval "2m" is not one of 15s, 30s, 1m, 5m, generic'],
    ['cluster=', 'cluster is empty; expected a cluster name'],
    ['intervall=1m', 'unknown query parameter "intervall"; expected interval, cluster, account, region, match, or shard and of'],
    ['account=1234', 'account "1234" is not an AWS account id (12 digits)'],
    ['region=EU WEST', 'region "EU WEST" is not an AWS region name (such as eu-west-1)'],
  ])('rejects %s with a one-line reason', (query, error) => {
    expect(parseTargetFilter(new URLSearchParams(query))).toEqual({ error });
  });
});

describe('toHttpSdJson with shards, selectors and static groups', () => {
  const staticGroup = toStaticPublishedGroups('hosts.json', [
    { targets: ['127.0.0.1:9100', '127.0.0.2:9100', '127.0.0.3:9100', '127.0.0.4:9100'], labels: { job: 'hosts', __scrape_interval__: '30s' } },
  ])[0] as PublishedGroup;
  const withStatic: GroupsByInterval = { ...groups, '30s': [...groups['30s'], staticGroup] };
  const matchersOf = (text: string) => {
    const parsed = parseMatchers(text);
    if ('error' in parsed) throw new Error(parsed.error);
    return parsed.matchers;
  };

  it('serves a static group as its file has it: no scrape labels added', () => {
    const served = toHttpSdGroups(withStatic, { interval: '30s' });
    expect(served[1]).toEqual({
      targets: ['127.0.0.1:9100', '127.0.0.2:9100', '127.0.0.3:9100', '127.0.0.4:9100'],
      labels: { __meta_static_file: 'hosts.json', __scrape_interval__: '30s', job: 'hosts' },
    });
  });

  it('splits the targets between shards: each of n takes its own, together all, none twice', () => {
    const all = toHttpSdGroups(withStatic).flatMap((served) => served.targets);
    const byShard = [0, 1, 2].map((index) => toHttpSdGroups(withStatic, { shard: { index, count: 3 } }).flatMap((served) => served.targets));

    expect(byShard.flat().sort()).toEqual([...all].sort());
    for (const [index, targets] of byShard.entries()) for (const target of targets) expect(shardOf(target, 3)).toBe(index);
  });

  it('keeps a split static group labelled as its file has it', () => {
    for (const index of [0, 1]) {
      const served = toHttpSdGroups(withStatic, { shard: { index, count: 2 } }).filter((group) => group.labels['job'] === 'hosts');
      for (const group of served) expect(group.labels).toEqual({ __meta_static_file: 'hosts.json', __scrape_interval__: '30s', job: 'hosts' });
    }
  });

  it('serves only the groups whose labels match every matcher', () => {
    expect(toHttpSdGroups(withStatic, { matchers: matchersOf('__meta_ecs_cluster=prod') }).map((served) => served.targets[0])).toEqual([
      '127.0.0.2:80',
      '127.0.0.5:80',
      '127.0.0.1:80',
    ]);
    expect(toHttpSdGroups(withStatic, { matchers: matchersOf('{job="hosts",__meta_static_file=~".*json"}') }).map((served) => served.labels['job'])).toEqual(['hosts']);
    expect(toHttpSdGroups(withStatic, { matchers: matchersOf('job=nothing') })).toEqual([]);
  });
});

describe('parseTargetFilter: shards and matchers', () => {
  it('reads shard and of, and every match (all must hold)', () => {
    const parsed = parseTargetFilter(new URLSearchParams('shard=1&of=2&match=team=payments&match=job%3D~api-.*'));
    if ('error' in parsed) throw new Error(parsed.error);
    expect(parsed.filter.shard).toEqual({ index: 1, count: 2 });
    expect(parsed.filter.matchers?.map((matcher) => `${matcher.name}${matcher.operator}${matcher.value}`)).toEqual(['team=payments', 'job=~api-.*']);
    expect(filterKey(parsed.filter)).toBe(`\u0000\u0000\u0000\u00001/2\u0000{team="payments",job=~"api-.*"}`);
  });

  it.each([
    ['shard=0', 'shard and of go together: ?shard=0&of=2 is the first of two shards'],
    ['of=2', 'shard and of go together: ?shard=0&of=2 is the first of two shards'],
    ['shard=2&of=2', 'shard "2" is not a shard number from 0 to 1'],
    ['shard=0&of=x', 'of "x" is not a number of shards from 1 to 1000'],
    ['match=9x', 'match: selector "9x": expected a label name at character 1'],
  ])('rejects %s', (query, error) => {
    expect(parseTargetFilter(new URLSearchParams(query))).toEqual({ error });
  });
});
