import type { Task } from '@aws-sdk/client-ecs';
import type { FakeAws, FakeFleet, FakeInstance } from '../../src/fake/fakeAws.js';
import { addDefinition, addHost, addManagedHost, addTask, emptyFleet, makeTaskDefinition, taskArn } from '../../src/fake/fleet.js';

/**
 * The shapes real accounts have and our first fakes did not (SEMANTICS.md): RUNNING tasks whose
 * bindings or address come late, a health status that changes, IPv6-only tasks and hosts, ECS
 * Anywhere hosts beside EC2 ones, port ranges, UDP ports, and marker values that say no.
 * Every address is loopback (127.x.y.z or ::1). The expected targets are written out by hand.
 */
export const REALITY = 'reality';

export function realityFleet(): FakeFleet {
  const fleet = emptyFleet();
  const ec2Host = addHost(fleet, REALITY, 'i-0aaaaaaaaaaaaaaa1', '127.0.60.1');
  const ipv6Host = addHost(fleet, REALITY, 'i-0bbbbbbbbbbbbbbb2', '::1');
  const edgeHost = addManagedHost(fleet, REALITY, 'mi-0123456789abcdef0', '127.0.61.1');

  // bridge: its bindings are not there at the first describe (see changeLater).
  const late = addDefinition(fleet, makeTaskDefinition('late', 1, 'bridge', [{ name: 'late', environment: { PROMETHEUS: 'yes' } }]));
  addTask(fleet, { cluster: REALITY, id: 'late1', definition: late, containerInstanceArn: ec2Host, containers: [{ name: 'late' }] });

  // awsvpc on Fargate: no address at the first describe.
  const noIpYet = addDefinition(
    fleet,
    makeTaskDefinition('noipyet', 1, 'awsvpc', [{ name: 'app', environment: { PROMETHEUS: 'true' }, portMappings: [{ containerPort: 9100 }] }]),
  );
  addTask(fleet, { cluster: REALITY, id: 'noip1', definition: noIpYet, launchType: 'FARGATE', containers: [{ name: 'app' }] });

  // Health changes after the start (see changeLater); the task is otherwise steady.
  const health = addDefinition(
    fleet,
    makeTaskDefinition('health', 3, 'awsvpc', [{ name: 'web', environment: { PROMETHEUS: 'true' }, portMappings: [{ containerPort: 8080 }] }]),
  );
  addTask(fleet, {
    cluster: REALITY,
    id: 'health1',
    definition: health,
    launchType: 'FARGATE',
    eniIp: '127.0.62.1',
    healthStatus: 'UNKNOWN',
    containers: [{ name: 'web' }],
  });

  // IPv6-only Fargate task.
  const v6 = addDefinition(
    fleet,
    makeTaskDefinition('v6', 1, 'awsvpc', [{ name: 'v6', environment: { PROMETHEUS: 'true' }, portMappings: [{ containerPort: 9200 }] }]),
  );
  addTask(fleet, { cluster: REALITY, id: 'v6task', definition: v6, launchType: 'FARGATE', eniIp: '::1', containers: [{ name: 'v6' }] });

  // bridge on an IPv6-only EC2 host.
  const onV6Host = addDefinition(fleet, makeTaskDefinition('onv6host', 1, 'bridge', [{ name: 'app', environment: { PROMETHEUS: 'true' } }]));
  addTask(fleet, {
    cluster: REALITY,
    id: 'v6host1',
    definition: onV6Host,
    containerInstanceArn: ipv6Host,
    containers: [{ name: 'app', bindings: [{ containerPort: 8080, hostPort: 32900, bindIP: '::' }] }],
  });

  // ECS Anywhere: a bridge task on a managed instance, in the cluster that also has EC2 hosts.
  const edge = addDefinition(fleet, makeTaskDefinition('edge', 2, 'bridge', [{ name: 'edge', environment: { PROMETHEUS: 'true' } }]));
  addTask(fleet, {
    cluster: REALITY,
    id: 'edge1',
    definition: edge,
    launchType: 'EXTERNAL',
    containerInstanceArn: edgeHost,
    containers: [{ name: 'edge', bindings: [{ containerPort: 8080, hostPort: 32950 }] }],
  });

  // awsvpc: a range is mapped first, then the single port to scrape.
  const ranged = addDefinition(
    fleet,
    makeTaskDefinition('ranged', 1, 'awsvpc', [
      { name: 'media', environment: { PROMETHEUS: 'true' }, portMappings: [{ containerPortRange: '10000-10099' }, { containerPort: 9300 }] },
    ]),
  );
  addTask(fleet, { cluster: REALITY, id: 'ranged1', definition: ranged, launchType: 'FARGATE', eniIp: '127.0.63.1', containers: [{ name: 'media' }] });

  // bridge: PROMETHEUS_CONTAINER_PORT inside a range binding.
  const rangeBound = addDefinition(
    fleet,
    makeTaskDefinition('rangebound', 1, 'bridge', [
      { name: 'worker', environment: { PROMETHEUS: 'true', PROMETHEUS_CONTAINER_PORT: '9042' }, portMappings: [{ containerPortRange: '9000-9099' }] },
    ]),
  );
  addTask(fleet, {
    cluster: REALITY,
    id: 'rangebound1',
    definition: rangeBound,
    containerInstanceArn: ec2Host,
    containers: [{ name: 'worker', bindings: [{ containerPortRange: '9000-9099', hostPortRange: '33000-33099' }] }],
  });

  // host mode: a statsd exporter whose first mapping is UDP.
  const statsd = addDefinition(
    fleet,
    makeTaskDefinition('statsd', 1, 'host', [
      {
        name: 'statsd',
        environment: { PROMETHEUS: 'true' },
        portMappings: [{ containerPort: 9125, hostPort: 9125, protocol: 'udp' }, { containerPort: 9102, hostPort: 9102 }],
      },
    ]),
  );
  addTask(fleet, { cluster: REALITY, id: 'statsd1', definition: statsd, containerInstanceArn: ec2Host, containers: [{ name: 'statsd' }] });

  // Marker and NOLABELS values that say no.
  const optOut = addDefinition(
    fleet,
    makeTaskDefinition('optout', 1, 'awsvpc', [
      { name: 'off', environment: { PROMETHEUS: 'false' }, portMappings: [{ containerPort: 9400 }] },
      { name: 'on', environment: { PROMETHEUS: 'true', PROMETHEUS_NOLABELS: 'false' }, portMappings: [{ containerPort: 9401 }] },
    ]),
  );
  addTask(fleet, { cluster: REALITY, id: 'optout1', definition: optOut, launchType: 'FARGATE', eniIp: '127.0.64.1', containers: [{ name: 'off' }, { name: 'on' }] });
  return fleet;
}

/** From round 2 on: the late bindings and address arrive, and the health check turns HEALTHY. */
export function changeLater(fake: FakeAws): void {
  fake.onRound(2, () => {
    const tasks = fake.fleet.clusters.find((cluster) => cluster.name === REALITY)?.tasks ?? [];
    const find = (id: string) => tasks.find((task) => task.taskArn === taskArn(REALITY, id));
    const late = find('late1')?.containers?.[0];
    if (late) late.networkBindings = [{ bindIP: '0.0.0.0', containerPort: 8080, hostPort: 32800, protocol: 'tcp' }];
    const noIp = find('noip1');
    if (noIp) {
      noIp.attachments = [
        { id: 'eni-attachment-noip1', type: 'ElasticNetworkInterface', status: 'ATTACHED', details: [{ name: 'privateIPv4Address', value: '127.0.65.1' }] },
      ];
      for (const container of noIp.containers ?? []) container.networkInterfaces = [{ privateIpv4Address: '127.0.65.1' }];
    }
    const health = find('health1');
    if (health) health.healthStatus = 'HEALTHY';
  });
}

/**
 * Every target of the fleet once the changes have been seen, by task and container, with the
 * address that SEMANTICS.md's address and port rules give it (worked out by hand, as the
 * comments in realityFleet say). Its labels are derived below.
 */
const REALITY_TARGETS = [
  { task: 'late1', container: 'late', address: '127.0.60.1:32800' },
  { task: 'noip1', container: 'app', address: '127.0.65.1:9100' },
  { task: 'health1', container: 'web', address: '127.0.62.1:8080' },
  { task: 'v6task', container: 'v6', address: '[::1]:9200' },
  { task: 'v6host1', container: 'app', address: '[::1]:32900' },
  { task: 'edge1', container: 'edge', address: '127.0.61.1:32950' },
  { task: 'ranged1', container: 'media', address: '127.0.63.1:9300' },
  { task: 'rangebound1', container: 'worker', address: '127.0.60.1:33042' },
  { task: 'statsd1', container: 'statsd', address: '127.0.60.1:9102' },
  { task: 'optout1', container: 'on', address: '127.0.64.1:9401' },
] as const;

/** A file_sd group, as the files hold it. */
export interface ExpectedGroup {
  targets: string[];
  labels: Record<string, string>;
}

const lastSegment = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
const bareIp = (address: string) => address.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
const saysYes = (value: string | undefined) => value !== undefined && !['', 'false', '0', 'no', 'off'].includes(value.trim().toLowerCase());

/**
 * The complete label set of each converged target, derived from the fleet by the rules of
 * SEMANTICS.md "Labels of each target group" (default settings), without the code under test:
 * custom labels, then instance, job, metrics_path and __metrics_path__, then the placement
 * labels (no instance_id on Fargate), then the __meta_ecs_* labels of the task, container and host.
 */
/** The subnet: of the task's network interface in awsvpc mode, else of its EC2 host. */
function subnetOf(task: Task, ec2: FakeInstance | undefined): string | undefined {
  const details = task.attachments?.flatMap((attachment) => attachment.details ?? []) ?? [];
  return details.find((detail) => detail.name === 'subnetId')?.value ?? ec2?.subnetId;
}

export function expectedRealityGroups(fleet: FakeFleet): ExpectedGroup[] {
  const cluster = fleet.clusters.find((candidate) => candidate.name === REALITY);
  if (cluster === undefined) throw new Error('no reality cluster in the fleet');
  return REALITY_TARGETS.map(({ task: id, container: name, address }) => {
    const task = cluster.tasks.find((candidate) => candidate.taskArn === taskArn(REALITY, id));
    const definition = fleet.taskDefinitions.get(task?.taskDefinitionArn ?? '');
    const container = task?.containers?.find((candidate) => candidate.name === name);
    const containerDefinition = definition?.containerDefinitions?.find((candidate) => candidate.name === name);
    if (!task?.taskArn || !definition?.family || !container?.containerArn || !containerDefinition) throw new Error(`no ${id}/${name} in the fleet`);
    const environment = Object.fromEntries((containerDefinition.environment ?? []).map((entry) => [entry.name ?? '', entry.value ?? '']));
    const path = '/metrics';
    const instance = cluster.containerInstances.find((candidate) => candidate.arn === task.containerInstanceArn);
    const hostId = instance?.ec2InstanceId;
    const ec2 = hostId === undefined ? undefined : fleet.instances.get(hostId);
    // An ECS Anywhere host's address comes from SSM; an EC2 host's private address from EC2.
    const hostIp = hostId === undefined ? undefined : hostId.startsWith('mi-') ? fleet.managedInstances.get(hostId)?.ip : ec2?.privateIp;
    const noLabels = saysYes(environment['PROMETHEUS_NOLABELS']);
    const custom = Object.fromEntries(
      Object.entries(environment)
        .filter(([variable]) => variable.startsWith('PROMETHEUS_LABEL_'))
        .map(([variable, value]) => [variable.slice('PROMETHEUS_LABEL_'.length).toLowerCase(), value]),
    );
    const labels: Record<string, string> = {
      ...custom,
      instance: noLabels ? definition.family : address,
      job: definition.family,
      metrics_path: path,
      __metrics_path__: path,
      ...(!noLabels && {
        cluster: REALITY,
        task_version: String(definition.revision),
        task_id: lastSegment(task.taskArn),
        container_id: lastSegment(container.containerArn),
        ...(task.launchType !== 'FARGATE' && hostId !== undefined && { instance_id: hostId }),
      }),
      __meta_ecs_cluster: REALITY,
      __meta_ecs_cluster_arn: `arn:aws:ecs:${fleet.region}:${fleet.accountId}:cluster/${REALITY}`,
      __meta_ecs_region: fleet.region,
      ...(task.group?.startsWith('service:') && { __meta_ecs_service: task.group.slice('service:'.length) }),
      __meta_ecs_task_arn: task.taskArn,
      __meta_ecs_task_definition: definition.taskDefinitionArn ?? '',
      __meta_ecs_task_group: task.group ?? '',
      __meta_ecs_launch_type: task.launchType ?? '',
      __meta_ecs_availability_zone: task.availabilityZone ?? '',
      __meta_ecs_network_mode: definition.networkMode ?? '',
      __meta_ecs_health_status: task.healthStatus ?? '',
      __meta_ecs_ip_address: bareIp(address),
      ...(task.containerInstanceArn !== undefined && { __meta_ecs_container_instance_arn: task.containerInstanceArn }),
      ...(hostId !== undefined && { __meta_ecs_ec2_instance_id: hostId }),
      ...(ec2?.instanceType !== undefined && { __meta_ecs_ec2_instance_type: ec2.instanceType }),
      __meta_ecs_task_definition_family: definition.family,
      __meta_ecs_task_definition_revision: String(definition.revision),
      __meta_ecs_container_name: name,
      __meta_ecs_container_image: containerDefinition.image ?? '',
      // From the same answers (issue 18): the account of the ARNs, the task's statuses and placement, its host's addresses and tags.
      __meta_ecs_account_id: fleet.accountId,
      ...(task.desiredStatus !== undefined && { __meta_ecs_desired_status: task.desiredStatus }),
      ...(task.lastStatus !== undefined && { __meta_ecs_last_status: task.lastStatus }),
      ...(task.platformFamily !== undefined && { __meta_ecs_platform_family: task.platformFamily }),
      ...(task.platformVersion !== undefined && { __meta_ecs_platform_version: task.platformVersion }),
      ...(task.capacityProviderName !== undefined && { __meta_ecs_capacity_provider: task.capacityProviderName }),
      ...(task.startedBy !== undefined && { __meta_ecs_task_started_by: task.startedBy }),
      ...(subnetOf(task, ec2) !== undefined && { __meta_ecs_subnet_id: subnetOf(task, ec2) }),
      ...(hostIp !== undefined && { __meta_ecs_ec2_instance_private_ip: hostIp }),
      ...(ec2?.publicIp !== undefined && { __meta_ecs_ec2_instance_public_ip: ec2.publicIp }),
      ...Object.fromEntries(Object.entries(ec2?.tags ?? {}).map(([tag, value]) => [`__meta_ecs_tag_ec2_${tag.replace(/[^a-zA-Z0-9_]/g, '_')}`, value])),
      ...Object.fromEntries(
        Object.entries(containerDefinition.dockerLabels ?? {}).map(([label, value]) => [`__meta_ecs_container_label_${label.replace(/[^a-zA-Z0-9_]/g, '_')}`, value]),
      ),
    };
    return { targets: [address], labels };
  });
}

/** Every target the fleet yields once the changes have been seen: address, job and health status. */
export const EXPECTED_REALITY = [
  '127.0.60.1:32800 late HEALTHY',
  '127.0.65.1:9100 noipyet HEALTHY',
  '127.0.62.1:8080 health HEALTHY',
  '[::1]:9200 v6 HEALTHY',
  '[::1]:32900 onv6host HEALTHY',
  '127.0.61.1:32950 edge HEALTHY',
  '127.0.63.1:9300 ranged HEALTHY',
  '127.0.60.1:33042 rangebound HEALTHY',
  '127.0.60.1:9102 statsd HEALTHY',
  '127.0.64.1:9401 optout HEALTHY',
].sort();
