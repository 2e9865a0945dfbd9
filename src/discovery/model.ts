import type { ContainerDefinition, Task, TaskDefinition } from '@aws-sdk/client-ecs';

/**
 * The parts of ECS and EC2 objects that resolution reads. The AWS adapter caches these trimmed
 * records, never whole API responses, so memory stays proportional to what matters.
 * Every field may be missing: ECS data is read defensively, never trusted to be complete.
 */

/** A runtime port binding of a bridge-mode container. Ports stay `unknown` until validated. */
export interface PortBinding {
  containerPort?: unknown;
  hostPort?: unknown;
  bindIP?: string;
}

/** A running container of a task, as DescribeTasks reports it. */
export interface ContainerRecord {
  name?: string;
  arn?: string;
  /** `networkInterfaces[0].privateIpv4Address` (awsvpc mode). */
  privateIp?: string;
  bindings: PortBinding[];
}

/** A task, as DescribeTasks reports it. */
export interface TaskRecord {
  arn: string;
  taskDefinitionArn?: string;
  lastStatus?: string;
  launchType?: string;
  availabilityZone?: string;
  group?: string;
  healthStatus?: string;
  containerInstanceArn?: string;
  /** The `privateIPv4Address` detail of the task's ENI attachment (awsvpc mode). */
  eniPrivateIp?: string;
  tags: Record<string, string>;
  containers: ContainerRecord[];
}

/** A port mapping of a container definition. */
export interface PortMapping {
  containerPort?: unknown;
  hostPort?: unknown;
}

/** A container definition of a task definition. */
export interface ContainerDefinitionRecord {
  name?: string;
  image?: string;
  environment: Record<string, string>;
  dockerLabels: Record<string, string>;
  portMappings: PortMapping[];
}

/** A task definition, as DescribeTaskDefinition reports it. */
export interface TaskDefinitionRecord {
  arn: string;
  family?: string;
  revision?: number;
  /** Absent means ECS's default on Linux EC2 hosts: `bridge`. */
  networkMode?: string;
  containers: ContainerDefinitionRecord[];
}

/** The EC2 host behind a container instance (bridge and host modes). */
export interface HostRecord {
  containerInstanceArn: string;
  /** Absent when DescribeContainerInstances did not know the container instance. */
  instanceId?: string;
  /** Absent when ec2:DescribeInstances did not return the instance (terminated, gone). */
  privateIp?: string;
  instanceType?: string;
}

export interface ClusterRef {
  name: string;
  arn: string;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const optionalString = (value: unknown): string | undefined => (isString(value) ? value : undefined);
const arrayOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/** Builds a name → value record from ECS `[{name, value}]` or `[{key, value}]` lists. */
function fromPairs(value: unknown, nameKey: 'name' | 'key'): Record<string, string> {
  const record: Record<string, string> = {};
  for (const pair of arrayOf(value)) {
    if (isObject(pair) && isString(pair[nameKey]) && isString(pair['value'])) {
      record[pair[nameKey]] = pair['value'];
    }
  }
  return record;
}

function fromStringMap(value: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  if (!isObject(value)) return record;
  for (const [name, entry] of Object.entries(value)) {
    if (isString(entry)) record[name] = entry;
  }
  return record;
}

function toEniPrivateIp(task: Task): string | undefined {
  for (const attachment of arrayOf(task.attachments)) {
    if (!isObject(attachment)) continue;
    const ip = fromPairs(attachment['details'], 'name')['privateIPv4Address'];
    if (ip) return ip;
  }
  return undefined;
}

/** Trims a DescribeTasks task to what resolution reads; undefined when it has no ARN. */
export function toTaskRecord(task: Task): TaskRecord | undefined {
  if (!isObject(task) || !isString(task.taskArn) || task.taskArn === '') return undefined;
  const containers: ContainerRecord[] = [];
  for (const container of arrayOf(task.containers)) {
    if (!isObject(container)) continue;
    const firstInterface = arrayOf(container['networkInterfaces'])[0];
    containers.push({
      name: optionalString(container['name']),
      arn: optionalString(container['containerArn']),
      privateIp: isObject(firstInterface) ? optionalString(firstInterface['privateIpv4Address']) : undefined,
      bindings: arrayOf(container['networkBindings']).filter(isObject).map((binding) => ({
        containerPort: binding['containerPort'],
        hostPort: binding['hostPort'],
        bindIP: optionalString(binding['bindIP']),
      })),
    });
  }
  return {
    arn: task.taskArn,
    taskDefinitionArn: optionalString(task.taskDefinitionArn),
    lastStatus: optionalString(task.lastStatus),
    launchType: optionalString(task.launchType),
    availabilityZone: optionalString(task.availabilityZone),
    group: optionalString(task.group),
    healthStatus: optionalString(task.healthStatus),
    containerInstanceArn: optionalString(task.containerInstanceArn),
    eniPrivateIp: toEniPrivateIp(task),
    tags: fromPairs(task.tags, 'key'),
    containers,
  };
}

function toContainerDefinitionRecord(container: ContainerDefinition): ContainerDefinitionRecord {
  return {
    name: optionalString(container.name),
    image: optionalString(container.image),
    environment: fromPairs(container.environment, 'name'),
    dockerLabels: fromStringMap(container.dockerLabels),
    portMappings: arrayOf(container.portMappings).filter(isObject).map((mapping) => ({
      containerPort: mapping['containerPort'],
      hostPort: mapping['hostPort'],
    })),
  };
}

/** Trims a DescribeTaskDefinition answer to what resolution reads. */
export function toTaskDefinitionRecord(arn: string, definition: TaskDefinition): TaskDefinitionRecord {
  const revision = isObject(definition) ? definition.revision : undefined;
  return {
    arn,
    family: isObject(definition) ? optionalString(definition.family) : undefined,
    revision: typeof revision === 'number' && Number.isInteger(revision) ? revision : undefined,
    networkMode: isObject(definition) ? optionalString(definition.networkMode) : undefined,
    containers: isObject(definition)
      ? arrayOf(definition.containerDefinitions).filter(isObject).map(toContainerDefinitionRecord)
      : [],
  };
}

/** The last segment of an ARN (`.../cluster-name/abc123` → `abc123`). */
export function lastArnSegment(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/** The cluster name of a cluster ARN (`arn:aws:ecs:...:cluster/prod` → `prod`). */
export function clusterNameOf(clusterArn: string): string {
  return lastArnSegment(clusterArn);
}
