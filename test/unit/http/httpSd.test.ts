import { describe, expect, it } from 'vitest';
import type { IntervalName } from '../../../src/discovery/endpoints.js';
import { toPublishedGroup, type GroupsByInterval, type TargetGroup } from '../../../src/discovery/targetGroups.js';
import { parseTargetFilter, toHttpSdJson, type TargetFilter } from '../../../src/http/httpSd.js';

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
    ['intervall=1m', 'unknown query parameter "intervall"; expected interval, cluster, account or region'],
    ['account=1234', 'account "1234" is not an AWS account id (12 digits)'],
    ['region=EU WEST', 'region "EU WEST" is not an AWS region name (such as eu-west-1)'],
  ])('rejects %s with a one-line reason', (query, error) => {
    expect(parseTargetFilter(new URLSearchParams(query))).toEqual({ error });
  });
});
