import { describe, expect, it } from 'vitest';
import { resolveTaskTargets, type ResolveOptions, type TaskContext } from '../../../src/discovery/resolveTargets.js';
import { DEFAULT_OPTIONS, changeContainer, loadContext, onlyContainers } from '../../fixtures/ecsFixtures.js';

/** Several ports per container, and the other tools' conventions and label sets, on API-shaped fixtures. */

const resolve = (context: TaskContext, options: Partial<ResolveOptions> = {}) => resolveTaskTargets(context, { ...DEFAULT_OPTIONS, ...options });
const withContainer = (kind: Parameters<typeof loadContext>[0], name: string, changes: Parameters<typeof changeContainer>[2]): TaskContext => {
  const context = loadContext(kind);
  return { ...context, definition: changeContainer(onlyContainers(context.definition!, name), name, changes) };
};
const seen = (context: TaskContext, options: Partial<ResolveOptions> = {}) =>
  resolve(context, options).targets.map((target) => `${target.interval} ${target.address}${target.labels['__metrics_path__'] ?? ''}`).sort();

describe('PROMETHEUS_SCRAPES: several ports per container', () => {
  it('scrapes, in bridge mode, the host port bound to each container port', () => {
    // The nginx container of the bridge fixture binds 80 → 32770 and 9113 → 32772 (IPv4).
    const context = withContainer('bridge', 'nginx', { environment: { PROMETHEUS: undefined, PROMETHEUS_CONTAINER_PORT: undefined, PROMETHEUS_SCRAPES: '80/status,30s:9113,1m:9113/other' } });

    expect(seen(context)).toEqual(['1m 127.0.0.11:32772/other', '30s 127.0.0.11:32772/metrics', 'generic 127.0.0.11:32770/status']);
  });

  it.each(['host', 'awsvpc-fargate'] as const)('scrapes that container port itself in %s mode', (kind) => {
    const name = kind === 'host' ? 'node-exporter' : 'api';
    const ip = kind === 'host' ? '127.0.0.11' : '127.0.1.10';
    const context = withContainer(kind, name, { environment: { PROMETHEUS_SCRAPES: '9100,15s:9256/probe,5m:9999' } });

    expect(seen(context)).toEqual([`15s ${ip}:9256/probe`, `5m ${ip}:9999/metrics`, `generic ${ip}:9100/metrics`]);
  });

  it('gives each group its own instance, and skips a bad entry alone with a reason of its own', () => {
    const context = withContainer('awsvpc-fargate', 'api', { environment: { PROMETHEUS_SCRAPES: '9100,nope,9200' } });

    const resolution = resolve(context);

    expect(resolution.targets.map((target) => target.labels['instance']).sort()).toEqual(['127.0.1.10:9100', '127.0.1.10:9200']);
    expect(resolution.skips.map((skip) => [skip.reason, skip.detail])).toEqual([
      ['bad_scrape_entry', 'PROMETHEUS_SCRAPES entry "nope" is not [interval:]port[/path] with a port in 1..65535'],
    ]);
  });

  it.each([
    { source: 'teralytics' as const, where: 'dockerLabels' as const, job: undefined },
    { source: 'ecs-observer' as const, where: 'dockerLabels' as const, job: undefined },
    { source: 'sepich' as const, where: 'dockerLabels' as const, job: undefined },
    { source: 'prometheus-ecs-discoverer' as const, where: 'environment' as const, job: 'web' },
    { source: 'dockerLabels' as const, where: 'dockerLabels' as const, job: 'web' },
  ])('reads PROMETHEUS_SCRAPES from the $where with the $source source, one group per entry, bad entries skipped alone', ({ source, where, job }) => {
    const scrapes = { PROMETHEUS_SCRAPES: '80/status,30s:9113,9x9' };
    const context = withContainer('bridge', 'nginx', {
      environment: { PROMETHEUS: undefined, PROMETHEUS_CONTAINER_PORT: undefined, ...(where === 'environment' && scrapes) },
      ...(where === 'dockerLabels' && { dockerLabels: scrapes }),
    });

    const resolution = resolve(context, { markerSource: source });

    expect(seen(context, { markerSource: source })).toEqual(['30s 127.0.0.11:32772/metrics', 'generic 127.0.0.11:32770/status']);
    expect(resolution.skips.map((skip) => `${skip.reason} ${skip.detail}`)).toEqual(['bad_scrape_entry PROMETHEUS_SCRAPES entry "9x9" is not [interval:]port[/path] with a port in 1..65535']);
    expect(resolution.targets.map((target) => target.labels['job'])).toEqual([job, job]);
  });

  it.each([' ', ',', ' , '])('skips, with a reason, a container whose PROMETHEUS_SCRAPES (%j) holds no entry, its other settings ignored', (scrapes) => {
    const context = withContainer('awsvpc-fargate', 'api', { environment: { PROMETHEUS_SCRAPES: scrapes, PROMETHEUS_PORT: '9100' } });

    const resolution = resolve(context);

    expect(resolution.targets).toEqual([]);
    expect(resolution.skips.map((skip) => [skip.reason, skip.detail])).toEqual([
      ['bad_scrape_entry', `PROMETHEUS_SCRAPES "${scrapes}" holds no [interval:]port[/path] entry`],
    ]);
  });

  it('skips, in bridge mode, an entry whose container port has no binding, and keeps the others', () => {
    const context = withContainer('bridge', 'nginx', { environment: { PROMETHEUS_SCRAPES: '9113,9999' } });

    const resolution = resolve(context);

    expect(resolution.targets.map((target) => target.address)).toEqual(['127.0.0.11:32772']);
    expect(resolution.skips.map((skip) => skip.reason)).toEqual(['no_port_binding']);
  });
});

describe('prometheus-ecs-discoverer and prometheus-ecs-sd label rules', () => {
  it('leaves out container_id and instance_id when the definition requires Fargate, with fargateIds compatibility', () => {
    const context = loadContext('awsvpc-fargate');

    const [target] = resolve(context, { fargateIds: 'compatibility' }).targets;

    expect(target?.labels).toMatchObject({ cluster: 'prod', task_version: expect.any(String) as string, task_id: expect.any(String) as string });
    expect(target?.labels).not.toHaveProperty('container_id');
    expect(resolve(context).targets[0]?.labels).toHaveProperty('container_id');
  });

  it('leaves them out, with fargateIds compatibility, on a task launched on EC2 whose definition requires EC2 and FARGATE, and keeps them where it requires EC2 alone', () => {
    const ec2 = loadContext('awsvpc-ec2');
    const both = { ...ec2, definition: { ...ec2.definition!, requiresCompatibilities: ['EC2', 'FARGATE'] } };

    const [dropped] = resolve(both, { fargateIds: 'compatibility' }).targets;
    const [kept] = resolve(ec2, { fargateIds: 'compatibility' }).targets;

    expect(dropped?.labels).toMatchObject({ cluster: 'batch', task_version: '12', __meta_ecs_launch_type: 'EC2', __meta_ecs_ec2_instance_id: 'i-0fedcba9876543210' });
    expect(dropped?.labels).not.toHaveProperty('container_id');
    expect(dropped?.labels).not.toHaveProperty('instance_id');
    expect(kept?.labels).toMatchObject({ container_id: expect.any(String) as string, instance_id: 'i-0fedcba9876543210' });
  });

  it('leaves them out by launch type with fargateIds launchType, and keeps them on an EC2 task', () => {
    const fargate = loadContext('awsvpc-fargate');
    const ec2 = loadContext('awsvpc-ec2');

    expect(resolve(fargate, { fargateIds: 'launchType' }).targets[0]?.labels).not.toHaveProperty('container_id');
    expect(resolve(ec2, { fargateIds: 'launchType' }).targets[0]?.labels).toMatchObject({ container_id: expect.any(String) as string, instance_id: 'i-0fedcba9876543210' });
  });
});

describe('teralytics label set', () => {
  const teralytics = { markerSource: 'teralytics' as const };

  it('writes its labels: task and container facts, no instance and no job unless the job label is given', () => {
    const context = withContainer('bridge', 'nginx', { environment: { PROMETHEUS: undefined }, dockerLabels: { PROMETHEUS_EXPORTER_PORT: '9113' } });

    const [target] = resolve(context, teralytics).targets;

    const own = Object.fromEntries(Object.entries(target?.labels ?? {}).filter(([name]) => !name.startsWith('__meta_')));
    expect(target?.address).toBe('127.0.0.11:32772');
    expect(own).toEqual({
      task_arn: context.task.arn,
      task_name: 'web',
      task_revision: '7',
      task_group: context.task.group,
      cluster_arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
      container_name: 'nginx',
      container_arn: context.task.containers.find((container) => container.name === 'nginx')?.arn,
      docker_image: context.definition?.containers[0]?.image,
    });
  });

  it('sets job, __metrics_path__ and __scheme__ from its labels, and scrapes PROMETHEUS_EXPORTER_SERVER_NAME instead of the IP', () => {
    const context = withContainer('awsvpc-fargate', 'api', {
      environment: { PROMETHEUS: undefined },
      dockerLabels: {
        PROMETHEUS_EXPORTER_PORT: '9090',
        PROMETHEUS_EXPORTER_PATH: '/actuator/prometheus',
        PROMETHEUS_EXPORTER_SCHEME: 'https',
        PROMETHEUS_EXPORTER_JOB_NAME: 'api',
        PROMETHEUS_EXPORTER_SERVER_NAME: 'api.example.internal/',
      },
    });

    const [target] = resolve(context, teralytics).targets;

    expect(target?.address).toBe('api.example.internal:9090');
    expect(target?.labels).toMatchObject({ job: 'api', __metrics_path__: '/actuator/prometheus', __scheme__: 'https', __meta_ecs_ip_address: '127.0.1.10' });
    expect(target?.labels).not.toHaveProperty('instance');
  });
});

describe('ecs_observer and CloudWatch agent docker labels', () => {
  const observer = { markerSource: 'ecs-observer' as const };

  it('scrapes the host port of ECS_PROMETHEUS_EXPORTER_PORT in bridge mode, with its path and job', () => {
    const context = withContainer('bridge', 'nginx', {
      environment: { PROMETHEUS: undefined },
      dockerLabels: { ECS_PROMETHEUS_EXPORTER_PORT: '9113', ECS_PROMETHEUS_METRICS_PATH: '/stats', ECS_PROMETHEUS_JOB_NAME: 'nginx-exporter' },
    });

    const [target] = resolve(context, observer).targets;

    expect(target?.address).toBe('127.0.0.11:32772');
    expect(target?.labels).toMatchObject({ job: 'nginx-exporter', __metrics_path__: '/stats' });
  });

  it('writes its label set: __metrics_path__, job only when ECS_PROMETHEUS_JOB_NAME gives one, and the __meta_ecs_* labels; none of ours', () => {
    const context = withContainer('bridge', 'nginx', { environment: { PROMETHEUS: undefined }, dockerLabels: { ECS_PROMETHEUS_EXPORTER_PORT: '9113' } });

    const [target] = resolve(context, observer).targets;

    const kept = Object.fromEntries(Object.entries(target?.labels ?? {}).filter(([name]) => !name.startsWith('__meta_ecs_')));
    expect(kept).toEqual({ __metrics_path__: '/metrics' });
    expect(target?.labels).toMatchObject({ __meta_ecs_cluster: 'prod', __meta_ecs_container_name: 'nginx', __meta_ecs_ip_address: '127.0.0.11' });
  });

  it('needs the port to be a port mapping of the container, in every mode', () => {
    const context = withContainer('awsvpc-fargate', 'api', { environment: { PROMETHEUS: undefined }, dockerLabels: { ECS_PROMETHEUS_EXPORTER_PORT: '9404' } });

    const resolution = resolve(context, observer);

    expect(resolution.targets).toEqual([]);
    expect(resolution.skips.map((skip) => skip.detail)).toEqual(['ECS_PROMETHEUS_EXPORTER_PORT 9404 is not a TCP port mapping of the container']);
  });
});

describe('sepich/prometheus-ecs-sd docker labels and label set', () => {
  const sepich = { markerSource: 'sepich' as const };

  it('scrapes each PROMETHEUS_SCRAPES port with its label set and PROMETHEUS_LABELS, __scheme__ among them, and no job or instance', () => {
    const context = withContainer('bridge', 'nginx', {
      environment: { PROMETHEUS: undefined, PROMETHEUS_CONTAINER_PORT: undefined },
      dockerLabels: { PROMETHEUS_SCRAPES: '9113/stats,80', PROMETHEUS_LABELS: '__scheme__=https,skip_15s=true,__keep=yes' },
    });

    const targets = resolve(context, sepich).targets;

    const kept = targets.map((target) => ({ address: target.address, labels: Object.fromEntries(Object.entries(target.labels).filter(([name]) => !name.startsWith('__meta_ecs_'))) }));
    const common = {
      __keep: 'yes',
      skip_15s: 'true',
      container_name: 'nginx',
      task_name: 'web',
      task_revision: '7',
      container_arn: 'arn:aws:ecs:eu-west-1:123456789012:container/prod/5f7a3c1e9b2d4e6f8a0b1c2d3e4f5a6b/c7e1f3a5-6b8d-4c0e-a2f4-b6c8d0e2f4a6',
      instance_id: 'i-0a1b2c3d4e5f67890',
      __container_image: 'nginx:1.27.2',
      __task_group: 'service:web',
      __scheme__: 'https',
    };
    expect(kept).toEqual([
      { address: '127.0.0.11:32772', labels: { ...common, __metrics_path__: '/stats' } },
      { address: '127.0.0.11:32770', labels: { ...common, __metrics_path__: '/metrics' } },
    ]);
  });

  it('marks only containers with PROMETHEUS_SCRAPES, and skips a PROMETHEUS_LABELS entry that is not name=value, with a warning', () => {
    const marked = withContainer('bridge', 'nginx', { dockerLabels: { PROMETHEUS_SCRAPES: '80', PROMETHEUS_LABELS: 'team=web,oops,9x=1' } });
    const unmarked = withContainer('bridge', 'nginx', { dockerLabels: { PROMETHEUS: 'true' } });

    const resolution = resolve(marked, sepich);

    expect(resolution.targets[0]?.labels).toMatchObject({ team: 'web' });
    expect(resolution.targets[0]?.labels).not.toHaveProperty('9x');
    expect(resolution.warnings.map((warning) => warning.message)).toEqual([
      'docker label PROMETHEUS_LABELS: "oops" is not name=value with a label name ([a-zA-Z_][a-zA-Z0-9_]*); skipped',
      'docker label PROMETHEUS_LABELS: "9x=1" is not name=value with a label name ([a-zA-Z_][a-zA-Z0-9_]*); skipped',
    ]);
    expect(resolve(unmarked, sepich).targets).toEqual([]);
  });
});
