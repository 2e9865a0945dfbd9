import type { Task, TaskDefinition } from '@aws-sdk/client-ecs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toTaskDefinitionRecord, toTaskRecord, type HostRecord } from '../../src/discovery/model.js';
import { resolveTaskTargets, type Resolution, type TaskContext } from '../../src/discovery/resolveTargets.js';
import { toFileSdJson, toGroupsByInterval, toPublishedGroup } from '../../src/discovery/targetGroups.js';
import { INTERVALS } from '../../src/discovery/endpoints.js';
import { DEFAULT_OPTIONS } from '../fixtures/ecsFixtures.js';

/**
 * Generated ECS answers, plausible and odd alike (nulls, strings for numbers, missing fields,
 * duplicates), through the real trimming and resolution: resolution must never throw, and what
 * it produces must always be valid for Prometheus.
 */

const options = DEFAULT_OPTIONS;

const odd = fc.oneof(fc.constant(null), fc.constant(undefined), fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.object());
/** Usually the plausible value, sometimes anything at all. */
const mostly = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary }, { weight: 1, arbitrary: odd });
const portLike = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 70_000 }) },
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 80, 65_535, 65_536, -1, 8080.5) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 65_535 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('9x9', '', ' 80 ', '-1', '1e3', '65536', '0x50') },
  { weight: 1, arbitrary: odd },
);
const ip = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255)).map(([a, b, c]) => `127.${a}.${b}.${c}`) },
  { weight: 1, arbitrary: odd },
);
const settingName = fc.oneof(
  fc.constantFrom('PROMETHEUS', 'PROMETHEUS_PORT', 'PROMETHEUS_CONTAINER_PORT', 'PROMETHEUS_ENDPOINT', 'PROMETHEUS_NOLABELS', 'PROMETHEUS_SCHEME', 'OTHER'),
  fc.string({ maxLength: 12 }).map((name) => `PROMETHEUS_LABEL_${name}`),
);
const settingValue = fc.oneof(
  fc.constantFrom('true', '', ' ', '9090', '9x9', '15s:/a, 1m:b ,, 2m:/c,/a', ':/x', 'https', 'ftp'),
  fc.string({ maxLength: 20 }),
);
const setting = fc.record({ name: settingName, value: settingValue });
const environment = fc.oneof(
  // Mostly marked containers: that is where the rules are.
  { weight: 6, arbitrary: fc.array(setting, { maxLength: 6 }).map((settings) => [{ name: 'PROMETHEUS', value: 'true' }, ...settings]) },
  { weight: 2, arbitrary: fc.array(setting, { maxLength: 8 }) },
  { weight: 1, arbitrary: odd },
);
const dockerLabels = fc.oneof(fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 4 }), odd);
const networkMode = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('bridge', 'host', 'awsvpc', 'none', 'default') },
  { weight: 1, arbitrary: odd },
);
const containerName = fc.constantFrom('app', 'sidecar');

const taskDefinition = fc.record(
  {
    family: fc.oneof(fc.constantFrom('api', 'worker'), odd),
    revision: fc.oneof(fc.integer({ min: 1, max: 50 }), odd),
    networkMode,
    containerDefinitions: fc.oneof(
      {
        weight: 9,
        arbitrary: fc.array(
          fc.record(
            {
              name: mostly(containerName),
              image: fc.oneof(fc.constant('example/app:1'), odd),
              environment,
              dockerLabels,
              portMappings: fc.oneof(fc.array(fc.record({ containerPort: portLike, hostPort: portLike }, { requiredKeys: [] }), { maxLength: 3 }), odd),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 4 },
        ),
      },
      { weight: 1, arbitrary: odd },
    ),
  },
  { requiredKeys: [] },
);

const task = (index: number) =>
  fc.record(
    {
      taskArn: fc.constant(`arn:aws:ecs:eu-west-1:123456789012:task/prod/t${index}`),
      lastStatus: fc.constant('RUNNING'),
      launchType: mostly(fc.constantFrom('EC2', 'FARGATE')),
      group: mostly(fc.constantFrom('service:api', 'family:worker')),
      containerInstanceArn: mostly(fc.constant('arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/ci1')),
      attachments: mostly(fc.constant([{ type: 'ElasticNetworkInterface', details: [{ name: 'privateIPv4Address', value: '127.9.9.9' }] }])),
      tags: fc.oneof(fc.array(fc.record({ key: fc.string({ maxLength: 8 }), value: fc.string({ maxLength: 8 }) }), { maxLength: 3 }), odd),
      containers: fc.oneof(
        {
          weight: 9,
          arbitrary: fc.array(
            fc.record(
              {
                name: mostly(containerName),
                containerArn: fc.oneof(fc.constant(`arn:aws:ecs:eu-west-1:123456789012:container/prod/c${index}`), odd),
                networkInterfaces: fc.oneof(fc.array(fc.record({ privateIpv4Address: ip }, { requiredKeys: [] }), { maxLength: 2 }), odd),
                networkBindings: fc.oneof(
                  fc.array(
                    fc.record(
                      { containerPort: portLike, hostPort: portLike, bindIP: fc.oneof(fc.constantFrom('0.0.0.0', '::'), odd) },
                      { requiredKeys: [] },
                    ),
                    { maxLength: 4 },
                  ),
                  odd,
                ),
              },
              { requiredKeys: [] },
            ),
            { maxLength: 4 },
          ),
        },
        { weight: 1, arbitrary: odd },
      ),
    },
    { requiredKeys: ['taskArn', 'lastStatus'] },
  );

const host: fc.Arbitrary<HostRecord | undefined> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 4,
    arbitrary: fc.record({
      containerInstanceArn: fc.constant('arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/ci1'),
      instanceId: fc.option(fc.constant('i-0123'), { nil: undefined, freq: 6 }),
      privateIp: fc.option(fc.constant('127.5.5.5'), { nil: undefined, freq: 6 }),
      instanceType: fc.option(fc.constant('m5.large'), { nil: undefined }),
    }),
  },
);

/** Up to 6 tasks, each with a definition (or none) and a host. */
const fleet = fc
  .array(fc.tuple(fc.option(taskDefinition, { nil: undefined }), host), { maxLength: 6 })
  .chain((entries) =>
    fc.tuple(...entries.map(([definition, hostRecord], index) => fc.tuple(task(index), fc.constant(definition), fc.constant(hostRecord)))),
  );

function toContexts(entries: [unknown, unknown, HostRecord | undefined][]): TaskContext[] {
  return entries.flatMap(([rawTask, rawDefinition, hostRecord], index) => {
    const record = toTaskRecord(rawTask as Task);
    if (!record) return [];
    const definition =
      rawDefinition === undefined ? undefined : toTaskDefinitionRecord(`arn:aws:ecs:eu-west-1:123456789012:task-definition/d:${index}`, rawDefinition as TaskDefinition);
    return [{ region: 'eu-west-1', cluster: { name: 'prod', arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod' }, task: record, definition, host: hostRecord }];
  });
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Every task's resolution, together. */
function resolveTargets(contexts: TaskContext[]): Resolution {
  const resolutions = contexts.map((context) => resolveTaskTargets(context, options));
  return {
    targets: resolutions.flatMap((resolution) => resolution.targets),
    skips: resolutions.flatMap((resolution) => resolution.skips),
    warnings: resolutions.flatMap((resolution) => resolution.warnings),
    marked: resolutions.reduce((sum, resolution) => sum + resolution.marked, 0),
    markerHints: resolutions.flatMap((resolution) => resolution.markerHints),
  };
}

describe('resolution of generated ECS answers', () => {
  it('never throws, and yields only valid label names, ports in 1..65535 and paths starting with "/"', () => {
    fc.assert(
      fc.property(fleet, (entries) => {
        const resolution = resolveTargets(toContexts(entries));

        for (const target of resolution.targets) {
          expect(INTERVALS).toContain(target.interval);
          const port = Number(target.address.slice(target.address.lastIndexOf(':') + 1));
          expect(Number.isInteger(port) && port >= 1 && port <= 65_535, target.address).toBe(true);
          for (const [name, value] of Object.entries(target.labels)) {
            expect(name).toMatch(LABEL_NAME);
            expect(typeof value).toBe('string');
          }
          expect(target.labels['__metrics_path__']).toMatch(/^\//);
          expect(target.labels['job']).toBeTruthy();
          expect(target.labels['instance']).toBeTruthy();
        }
        for (const skip of resolution.skips) expect(skip.detail.length).toBeGreaterThan(0);
      }),
      { numRuns: Number(process.env["FC_NUM_RUNS"] ?? 400) },
    );
  });

  it('gives the same files whatever the order of the tasks', () => {
    fc.assert(
      fc.property(
        fleet.chain((entries) => fc.tuple(fc.constant(entries), fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }))),
        ([entries, shuffled]) => {
          const contexts = toContexts(entries);
          // Same tasks in another order: map by ARN so each keeps its own definition and host.
          const byArn = new Map(contexts.map((context) => [context.task.arn, context]));
          const reordered = toContexts(shuffled).map((context) => byArn.get(context.task.arn) ?? context);

          const forward = toGroupsByInterval(resolveTargets(contexts).targets.map(toPublishedGroup));
          const backward = toGroupsByInterval(resolveTargets(reordered).targets.map(toPublishedGroup));

          for (const interval of INTERVALS) expect(toFileSdJson(backward[interval])).toBe(toFileSdJson(forward[interval]));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never changes its input', () => {
    fc.assert(
      fc.property(fleet, (entries) => {
        const contexts = toContexts(entries);
        const before = structuredClone(contexts);

        resolveTargets(contexts);

        expect(contexts).toEqual(before);
      }),
      { numRuns: 200 },
    );
  });
});
