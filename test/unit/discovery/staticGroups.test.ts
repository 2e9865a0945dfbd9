import * as yamlPackage from 'yaml';
import { describe, expect, it } from 'vitest';
import { isStaticFileName, isTargetAddress, parseStaticGroups, toStaticPublishedGroups } from '../../../src/discovery/staticGroups.js';

describe('isStaticFileName', () => {
  it.each([
    ['rds.json', true],
    ['hosts.yaml', true],
    ['hosts.yml', true],
    ['_draft.json', false],
    ['.hidden.yaml', false],
    ['.prometheus-ecs-discoverer-1-ab.tmp', false],
    ['notes.txt', false],
    ['targets.json.bak', false],
  ])('%s → %s', (name, expected) => {
    expect(isStaticFileName(name)).toBe(expected);
  });
});

describe('isTargetAddress', () => {
  it.each([
    ['127.0.0.1:9100', true],
    ['db.internal.example:9187', true],
    ['[::1]:9100', true],
    ['localhost:80', true],
    ['127.0.0.1', false],
    ['127.0.0.1:0', false],
    ['127.0.0.1:65536', false],
    ['::1:9100', false],
    ['[127.0.0.1]:9100', false],
    ['http://127.0.0.1:9100', false],
    ['host name:9100', false],
    ['127.0.0.1:9x9', false],
  ])('%s → %s', (address, expected) => {
    expect(isTargetAddress(address)).toBe(expected);
  });
});

describe('parseStaticGroups', () => {
  it('reads file_sd JSON and YAML alike', () => {
    const json = parseStaticGroups('[{"targets":["127.0.0.1:9187"],"labels":{"job":"rds"}}]', 'json');
    const yaml = parseStaticGroups('- targets: ["127.0.0.1:9187"]\n  labels:\n    job: rds\n', 'yaml', yamlPackage);
    expect(json).toEqual({ groups: [{ targets: ['127.0.0.1:9187'], labels: { job: 'rds' } }] });
    expect(yaml).toEqual(json);
  });

  it('reads a group without labels, and an empty YAML file as no group', () => {
    expect(parseStaticGroups('[{"targets":["127.0.0.1:1"]}]', 'json')).toEqual({ groups: [{ targets: ['127.0.0.1:1'], labels: {} }] });
    expect(parseStaticGroups('', 'yaml', yamlPackage)).toEqual({ groups: [] });
  });

  it.each([
    ['{', 'json', 'not valid JSON'],
    ['{"targets":[]}', 'json', 'expected a list of target groups'],
    ['[1]', 'json', 'group 1: expected an object with "targets" and "labels"'],
    ['[{"labels":{}}]', 'json', 'group 1: "targets" must be a list of host:port addresses'],
    ['[{"targets":["127.0.0.1"]}]', 'json', 'group 1: target "127.0.0.1" is not host:port'],
    ['[{"targets":[9100]}]', 'json', 'group 1: target 9100 is not host:port'],
    ['[{"targets":["127.0.0.1:1"]},{"targets":["127.0.0.1:1"]}]', 'json', 'group 2: target 127.0.0.1:1 is listed twice'],
    ['[{"targets":["127.0.0.1:1"],"labels":{"bad-name":"x"}}]', 'json', 'group 1: label name "bad-name" is not valid'],
    ['[{"targets":["127.0.0.1:1"],"labels":{"port":9100}}]', 'json', 'group 1: label port must be text, got 9100'],
    ['[{"targets":["127.0.0.1:1"],"labels":[]}]', 'json', 'group 1: "labels" must be an object'],
    ['[{"targets":["127.0.0.1:1"],"label":{}}]', 'json', 'group 1: unknown field "label"'],
    ['- targets: [a\n', 'yaml', 'not valid YAML'],
  ] as const)('rejects %s, saying what is wrong', (text, format, error) => {
    const parsed = parseStaticGroups(text, format, yamlPackage);
    expect('error' in parsed && parsed.error).toContain(error);
  });
});

describe('toStaticPublishedGroups', () => {
  it('labels each group with its file, sorted, in the file of its __scrape_interval__ or the generic one', () => {
    const groups = toStaticPublishedGroups('rds.yaml', [
      { targets: ['127.0.0.1:9187'], labels: { job: 'rds', __meta_static_file: 'spoofed' } },
      { targets: ['127.0.0.2:9100'], labels: { __scrape_interval__: '30s', job: 'host' } },
      { targets: ['127.0.0.3:9100'], labels: { __scrape_interval__: '2m' } },
      { targets: [], labels: { job: 'empty' } },
    ]);

    expect(groups.map((group) => [group.interval, group.staticFile, group.cluster, group.json])).toEqual([
      ['generic', 'rds.yaml', '', '{"targets":["127.0.0.1:9187"],"labels":{"__meta_static_file":"rds.yaml","job":"rds"}}'],
      ['30s', 'rds.yaml', '', '{"targets":["127.0.0.2:9100"],"labels":{"__meta_static_file":"rds.yaml","__scrape_interval__":"30s","job":"host"}}'],
      ['generic', 'rds.yaml', '', '{"targets":["127.0.0.3:9100"],"labels":{"__meta_static_file":"rds.yaml","__scrape_interval__":"2m"}}'],
    ]);
  });
});
