import { describe, expect, it } from 'vitest';
import { selectClusters } from '../../../src/discovery/clusters.js';

const cluster = (name: string) => ({ name, arn: `arn:aws:ecs:eu-west-1:123456789012:cluster/${name}` });
const all = [cluster('prod-web'), cluster('prod-batch'), cluster('staging-web'), cluster('dev')];
const names = (selected: { name: string }[]) => selected.map((selected) => selected.name);

describe('selectClusters', () => {
  it('keeps every cluster when nothing narrows the selection', () => {
    expect(names(selectClusters(all, { names: [] }))).toEqual(['prod-web', 'prod-batch', 'staging-web', 'dev']);
  });

  it('keeps the clusters given by name or by ARN', () => {
    const selected = selectClusters(all, { names: ['dev', 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod-batch'] });

    expect(names(selected)).toEqual(['prod-batch', 'dev']);
  });

  it('keeps the clusters whose name matches include, and drops those matching exclude', () => {
    expect(names(selectClusters(all, { names: [], include: /^prod-/ }))).toEqual(['prod-web', 'prod-batch']);
    expect(names(selectClusters(all, { names: [], exclude: /batch|dev/ }))).toEqual(['prod-web', 'staging-web']);
  });

  it('lets exclude win over names and include', () => {
    const selected = selectClusters(all, { names: ['prod-web', 'prod-batch'], include: /web/, exclude: /^prod-web$/ });

    expect(names(selected)).toEqual([]);
  });
});
