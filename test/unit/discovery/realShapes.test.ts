import { describe, expect, it } from 'vitest';
import { resolveTaskTargets, type Target } from '../../../src/discovery/resolveTargets.js';
import { DEFAULT_OPTIONS, loadContext } from '../../fixtures/ecsFixtures.js';

/**
 * Port ranges, UDP and an IPv6-only awsvpc task on EC2, on fixtures shaped like real
 * DescribeTasks and DescribeTaskDefinition answers (field names of the AWS API reference):
 * range bindings `containerPortRange`/`hostPortRange` on a dual-stack host, UDP bindings and
 * mappings listed before the TCP ones, a range mapped before a single port.
 */

const MEDIA_TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/prod/7d9f1b3c5e7a4c2e8a0c4e6a8c0e2a4c';
const INDEXER_TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/batch/5b7d9f1b3d5f4b7d9f1b3d5f7b9d1f3b';

const summary = (target: Target) => `${target.interval} ${target.address}${target.labels['__metrics_path__']} ${target.labels['__meta_ecs_container_name']}`;

describe('a bridge task with port ranges and UDP ports (EC2)', () => {
  const resolution = resolveTaskTargets(loadContext('bridge-ports'), DEFAULT_OPTIONS);

  it('scrapes each container on its TCP port: never a UDP one, never a range where the rule takes the first entry', () => {
    expect(resolution.targets.map(summary).sort()).toEqual([
      // media: PROMETHEUS_CONTAINER_PORT 9042 inside the range 9000-9099 bound to 33000-33099 (IPv4; the IPv6 range is 33100-33199).
      '30s 127.0.0.11:33042/stats/prometheus media',
      // statsd: 9125/udp is bound first; the first TCP binding of a single port is 9102 → 32902.
      'generic 127.0.0.11:32902/metrics statsd',
      // gateway: a range (7000-7009) is bound first; the first single port is 8080 → 32903.
      'generic 127.0.0.11:32903/metrics gateway',
    ]);
  });

  it('skips a container whose PROMETHEUS_CONTAINER_PORT is bound over UDP only, with the reason, and no other', () => {
    expect(resolution.skips).toEqual([
      expect.objectContaining({ container: 'sip', taskArn: MEDIA_TASK, reason: 'no_port_binding', detail: 'no network binding for container port 5060' }),
    ]);
  });

  it('labels the range target with its task, container and host', () => {
    const media = resolution.targets.find((target) => target.labels['__meta_ecs_container_name'] === 'media');

    expect(media?.labels).toEqual({
      instance: '127.0.0.11:33042',
      job: 'media',
      metrics_path: '/stats/prometheus',
      __metrics_path__: '/stats/prometheus',
      cluster: 'prod',
      task_version: '4',
      task_id: '7d9f1b3c5e7a4c2e8a0c4e6a8c0e2a4c',
      container_id: '4e6a8c0e-2a4c-4e8a-a0c2-4a6c8e0a2c4e',
      instance_id: 'i-0a1b2c3d4e5f67890',
      __meta_ecs_cluster: 'prod',
      __meta_ecs_cluster_arn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
      __meta_ecs_region: 'eu-west-1',
      __meta_ecs_service: 'media',
      __meta_ecs_task_arn: MEDIA_TASK,
      __meta_ecs_task_definition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/media:4',
      __meta_ecs_task_definition_family: 'media',
      __meta_ecs_task_definition_revision: '4',
      __meta_ecs_task_group: 'service:media',
      __meta_ecs_launch_type: 'EC2',
      __meta_ecs_availability_zone: 'eu-west-1b',
      __meta_ecs_network_mode: 'bridge',
      __meta_ecs_health_status: 'UNKNOWN',
      __meta_ecs_ip_address: '127.0.0.11',
      __meta_ecs_container_instance_arn: 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/8d2e6b4a1c3f4e5d9a7b0c1d2e3f4a5b',
      __meta_ecs_ec2_instance_id: 'i-0a1b2c3d4e5f67890',
      __meta_ecs_ec2_instance_type: 'm5.large',
      __meta_ecs_container_name: 'media',
      __meta_ecs_container_image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/media:3.2.0',
      // From the same answers, at no extra call (issue 18).
      __meta_ecs_account_id: '123456789012',
      __meta_ecs_desired_status: 'RUNNING',
      __meta_ecs_last_status: 'RUNNING',
      __meta_ecs_task_started_by: 'ecs-svc/5519843302217654321',
      __meta_ecs_ec2_instance_private_ip: '127.0.0.11',
    });
  });
});

describe('an IPv6-only awsvpc task on EC2, with UDP and range mappings', () => {
  const resolution = resolveTaskTargets(loadContext('awsvpc-ec2-ipv6'), DEFAULT_OPTIONS);

  it('scrapes its IPv6 address in brackets: the first TCP single-port mapping, and each PROMETHEUS_SCRAPES port', () => {
    expect(resolution.skips).toEqual([]);
    expect(resolution.targets.map(summary).sort()).toEqual([
      // indexer: PROMETHEUS_SCRAPES 9600/_prometheus/metrics and 30s:9205 (a port inside its mapped range).
      '30s [::1]:9205/metrics indexer',
      'generic [::1]:8888/metrics otel',
      'generic [::1]:9600/_prometheus/metrics indexer',
    ]);
  });

  it('keeps the EC2 host labels of a task on EC2, with the bare IPv6 address for relabeling', () => {
    const otel = resolution.targets.find((target) => target.labels['__meta_ecs_container_name'] === 'otel');

    expect(otel?.labels).toMatchObject({
      instance: '[::1]:8888',
      job: 'indexer',
      cluster: 'batch',
      task_id: '5b7d9f1b3d5f4b7d9f1b3d5f7b9d1f3b',
      container_id: '1b3d5f7b-9d1f-4b3d-85f7-b9d1f3b5d7f9',
      instance_id: 'i-0fedcba9876543210',
      __meta_ecs_task_arn: INDEXER_TASK,
      __meta_ecs_launch_type: 'EC2',
      __meta_ecs_network_mode: 'awsvpc',
      __meta_ecs_health_status: 'HEALTHY',
      __meta_ecs_ip_address: '::1',
      __meta_ecs_ec2_instance_id: 'i-0fedcba9876543210',
      __meta_ecs_ec2_instance_type: 'c6i.xlarge',
    });
  });
});
