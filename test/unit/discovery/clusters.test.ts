import { describe, expect, it } from 'vitest';
import { compileNamePattern, selectClusters } from '../../../src/discovery/clusters.js';

const re = compileNamePattern;

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
    expect(names(selectClusters(all, { names: [], include: re('^prod-') }))).toEqual(['prod-web', 'prod-batch']);
    expect(names(selectClusters(all, { names: [], exclude: re('batch|dev') }))).toEqual(['prod-web', 'staging-web']);
  });

  it('lets exclude win over names and include', () => {
    const selected = selectClusters(all, { names: ['prod-web', 'prod-batch'], include: re('web'), exclude: re('^prod-web$') });

    expect(names(selected)).toEqual([]);
  });

  it('matches a pattern with nested quantifiers in linear time, so no name can block the process', () => {
    // (a+)+$ backtracks exponentially in JavaScript's engine on 30 "a" and a "-"; RE2 does not backtrack.
    const pattern = re('(a+)+$');

    expect(pattern.test(`${'a'.repeat(5000)}-`)).toBe(false);
    expect(pattern.test('aaa')).toBe(true);
  });

  it('refuses what RE2 does not accept, such as lookahead', () => {
    expect(() => re('(?=prod)')).toThrow(/invalid or unsupported Perl syntax/);
  });
});
