import type { Task, TaskDefinition } from '@aws-sdk/client-ecs';
import type { FakeCluster, FakeFleet } from './fakeAws.js';

/**
 * Builders of ECS objects shaped like real API answers, for the fake and for fixtures.
 * Every IP is a loopback address (127.x.y.z): whatever Prometheus scrapes in tests stays local.
 */

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';

export const clusterArn = (cluster: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${cluster}`;
export const taskArn = (cluster: string, id: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${cluster}/${id}`;
export const taskDefinitionArn = (family: string, revision: number) =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${family}:${revision}`;
export const containerInstanceArn = (cluster: string, id: string) =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:container-instance/${cluster}/${id}`;
export const containerArn = (cluster: string, id: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:container/${cluster}/${id}`;

export interface ContainerSpec {
  name: string;
  image?: string;
  environment?: Record<string, string>;
  dockerLabels?: Record<string, string>;
  portMappings?: { containerPort?: number; hostPort?: number; protocol?: 'tcp' | 'udp'; containerPortRange?: string }[];
}

export function makeTaskDefinition(
  family: string,
  revision: number,
  networkMode: string | undefined,
  containers: ContainerSpec[],
): TaskDefinition {
  return {
    taskDefinitionArn: taskDefinitionArn(family, revision),
    family,
    revision,
    ...(networkMode !== undefined && { networkMode: networkMode as TaskDefinition['networkMode'] }),
    status: 'ACTIVE',
    containerDefinitions: containers.map((container) => ({
      name: container.name,
      image: container.image ?? `example/${container.name}:latest`,
      essential: true,
      environment: Object.entries(container.environment ?? {}).map(([name, value]) => ({ name, value })),
      ...(container.dockerLabels && { dockerLabels: container.dockerLabels }),
      portMappings: (container.portMappings ?? []).map((mapping) => ({ protocol: 'tcp' as const, ...mapping })),
    })),
  };
}

export interface RunningContainerSpec {
  name: string;
  id?: string;
  bindings?: {
    containerPort?: number;
    hostPort?: number;
    bindIP?: string;
    protocol?: 'tcp' | 'udp';
    containerPortRange?: string;
    hostPortRange?: string;
  }[];
  privateIp?: string;
}

export interface TaskSpec {
  cluster: string;
  id: string;
  definition: TaskDefinition;
  lastStatus?: string;
  launchType?: 'EC2' | 'FARGATE' | 'EXTERNAL';
  containerInstanceArn?: string;
  containers: RunningContainerSpec[];
  /**
   * awsvpc: the ENI's address, on the attachment and on each container: an IPv4 address, or an
   * IPv6 one (`::1`) for an IPv6-only task.
   */
  eniIp?: string;
  /** @default 'HEALTHY' */
  healthStatus?: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';
  group?: string;
  tags?: Record<string, string>;
}

/** A container's network interface address, as DescribeTasks gives it: `privateIpv4Address` or `ipv6Address`. */
function interfaceIp(container: RunningContainerSpec, eniIp: string | undefined) {
  const ip = container.privateIp ?? eniIp;
  if (ip === undefined) return undefined;
  return ip.includes(':') ? { ipv6Address: ip } : { privateIpv4Address: ip };
}

export function makeTask(spec: TaskSpec): Task {
  const awsvpc = spec.definition.networkMode === 'awsvpc';
  return {
    taskArn: taskArn(spec.cluster, spec.id),
    clusterArn: clusterArn(spec.cluster),
    taskDefinitionArn: spec.definition.taskDefinitionArn,
    lastStatus: spec.lastStatus ?? 'RUNNING',
    desiredStatus: 'RUNNING',
    launchType: spec.launchType ?? 'EC2',
    availabilityZone: `${REGION}a`,
    group: spec.group ?? `service:${spec.definition.family}`,
    healthStatus: spec.healthStatus ?? 'HEALTHY',
    ...(spec.containerInstanceArn && { containerInstanceArn: spec.containerInstanceArn }),
    ...(awsvpc &&
      spec.eniIp && {
        attachments: [
          {
            id: `eni-attachment-${spec.id}`,
            type: 'ElasticNetworkInterface',
            status: 'ATTACHED',
            details: [
              { name: 'subnetId', value: 'subnet-1' },
              { name: 'networkInterfaceId', value: `eni-${spec.id}` },
              { name: spec.eniIp.includes(':') ? 'ipv6Address' : 'privateIPv4Address', value: spec.eniIp },
            ],
          },
        ],
      }),
    ...(spec.tags && { tags: Object.entries(spec.tags).map(([key, value]) => ({ key, value })) }),
    containers: spec.containers.map((container) => ({
      containerArn: containerArn(spec.cluster, container.id ?? `${spec.id}-${container.name}`),
      taskArn: taskArn(spec.cluster, spec.id),
      name: container.name,
      lastStatus: spec.lastStatus ?? 'RUNNING',
      ...(container.bindings && {
        networkBindings: container.bindings.map((binding) => ({ bindIP: '0.0.0.0', protocol: 'tcp' as const, ...binding })),
      }),
      ...(interfaceIp(container, awsvpc ? spec.eniIp : undefined) && {
        networkInterfaces: [{ attachmentId: `eni-attachment-${spec.id}`, ...interfaceIp(container, awsvpc ? spec.eniIp : undefined) }],
      }),
    })),
  };
}

export function emptyFleet(): FakeFleet {
  return { accountId: ACCOUNT, region: REGION, clusters: [], taskDefinitions: new Map(), instances: new Map(), managedInstances: new Map() };
}

/** The cluster of that name, created when missing. */
export function clusterOf(fleet: FakeFleet, name: string): FakeCluster {
  let cluster = fleet.clusters.find((candidate) => candidate.name === name);
  if (!cluster) {
    cluster = { name, tasks: [], containerInstances: [] };
    fleet.clusters.push(cluster);
  }
  return cluster;
}

export function addDefinition(fleet: FakeFleet, definition: TaskDefinition): TaskDefinition {
  fleet.taskDefinitions.set(definition.taskDefinitionArn as string, definition);
  return definition;
}

/** Adds an EC2 host to a cluster (an IPv6 address, `::1`, makes an IPv6-only host); returns its container instance ARN. */
export function addHost(fleet: FakeFleet, cluster: string, instanceId: string, ip: string, instanceType = 'm5.large') {
  const arn = containerInstanceArn(cluster, `ci-${instanceId}`);
  clusterOf(fleet, cluster).containerInstances.push({ arn, ec2InstanceId: instanceId });
  fleet.instances.set(instanceId, { ...(ip.includes(':') ? { ipv6: ip } : { privateIp: ip }), instanceType });
  return arn;
}

/** Adds an ECS Anywhere host (an SSM managed instance, `mi-…`) to a cluster; returns its container instance ARN. */
export function addManagedHost(fleet: FakeFleet, cluster: string, instanceId: string, ip: string) {
  const arn = containerInstanceArn(cluster, `ci-${instanceId}`);
  clusterOf(fleet, cluster).containerInstances.push({ arn, ec2InstanceId: instanceId });
  fleet.managedInstances.set(instanceId, { ip });
  return arn;
}

export function addTask(fleet: FakeFleet, spec: TaskSpec): Task {
  const task = makeTask(spec);
  clusterOf(fleet, spec.cluster).tasks.push(task);
  return task;
}

/** 127.a.b.c for a number: distinct loopback addresses for up to 16 million things. */
export function loopbackIp(offset: number, n: number): string {
  const value = offset * 65536 + n + 1;
  return `127.${(value >> 16) & 255}.${(value >> 8) & 255}.${value & 255}`;
}

export interface GeneratedFleetSpec {
  clusters: number;
  tasksPerCluster: number;
  /** Distinct task definitions (families × revisions) in the whole fleet. */
  definitions: number;
  /** Tasks per EC2 host in bridge and host mode. */
  tasksPerHost?: number;
}

/**
 * A large, realistic fleet: per cluster a mix of bridge (40 %), host (10 %), awsvpc on EC2
 * (20 %) and Fargate (30 %) tasks over a pool of task definition revisions. Every task has one
 * marked container that yields exactly one target, so the expected target count is the task count.
 */
export function generateFleet({ clusters, tasksPerCluster, definitions, tasksPerHost = 20 }: GeneratedFleetSpec): FakeFleet {
  const fleet = emptyFleet();
  const modes = ['bridge', 'bridge', 'bridge', 'bridge', 'host', 'awsvpc', 'awsvpc', 'fargate', 'fargate', 'fargate'] as const;
  const byMode = new Map<string, TaskDefinition[]>();
  for (let index = 0; index < definitions; index++) {
    const mode = modes[index % modes.length] as (typeof modes)[number];
    const networkMode = mode === 'fargate' ? 'awsvpc' : mode;
    const family = `app-${Math.floor(index / 3)}-${mode}`;
    const definition = addDefinition(
      fleet,
      makeTaskDefinition(family, (index % 3) + 1, networkMode, [
        {
          name: 'app',
          environment: {
            PROMETHEUS: 'true',
            PROMETHEUS_ENDPOINT: ['/metrics', '15s:/metrics', '30s:/metrics', '1m:/metrics', '5m:/metrics'][index % 5] as string,
            PROMETHEUS_LABEL_team: `team-${index % 7}`,
            LOG_LEVEL: 'info',
            DATABASE_URL: 'postgres://db.example.internal/app',
          },
          portMappings: mode === 'bridge' ? [{ containerPort: 8080, hostPort: 0 }] : [{ containerPort: 9100 + (index % 50) }],
        },
        { name: 'sidecar', environment: { ROLE: 'proxy' }, portMappings: [{ containerPort: 15000 }] },
      ]),
    );
    byMode.set(mode, [...(byMode.get(mode) ?? []), definition]);
  }

  let hostCounter = 0;
  let ipCounter = 0;
  for (let clusterIndex = 0; clusterIndex < clusters; clusterIndex++) {
    const cluster = `cluster-${clusterIndex}`;
    clusterOf(fleet, cluster);
    // EC2-backed tasks (bridge, host, awsvpc on EC2) are packed onto hosts, as ECS places them.
    // Host-mode tasks of one definition may share a host and port here; the discoverer does
    // not care, and every target still differs by its labels.
    let host: { arn: string; nextPort: number; tasks: number } | undefined;
    const placeOnHost = () => {
      if (host === undefined || host.tasks >= tasksPerHost) {
        hostCounter += 1;
        const instanceId = `i-${hostCounter.toString(16).padStart(17, '0')}`;
        host = { arn: addHost(fleet, cluster, instanceId, loopbackIp(1, hostCounter)), nextPort: 32768, tasks: 0 };
      }
      host.tasks += 1;
      host.nextPort += 1;
      return host;
    };
    for (let taskIndex = 0; taskIndex < tasksPerCluster; taskIndex++) {
      const mode = modes[taskIndex % modes.length] as (typeof modes)[number];
      const pool = byMode.get(mode) ?? [...fleet.taskDefinitions.values()];
      const definition = pool[(taskIndex * 7 + clusterIndex) % pool.length] as TaskDefinition;
      const id = `${clusterIndex.toString(16)}t${taskIndex.toString(16).padStart(6, '0')}`;
      const fargate = definition.family?.endsWith('fargate') ?? false;
      const placed = fargate ? undefined : placeOnHost();
      const awsvpc = definition.networkMode === 'awsvpc';
      if (awsvpc) ipCounter += 1;
      addTask(fleet, {
        cluster,
        id,
        definition,
        launchType: fargate ? 'FARGATE' : 'EC2',
        ...(placed && { containerInstanceArn: placed.arn }),
        ...(awsvpc && { eniIp: loopbackIp(2, ipCounter) }),
        containers: [
          {
            name: 'app',
            ...(definition.networkMode === 'bridge' && placed && { bindings: [{ containerPort: 8080, hostPort: placed.nextPort }] }),
          },
          { name: 'sidecar' },
        ],
      });
    }
  }
  return fleet;
}
