import type { Instance } from '@aws-sdk/client-ec2';
import type { ContainerDefinition, Task, TaskDefinition } from '@aws-sdk/client-ecs';
import type { InstanceInformation } from '@aws-sdk/client-ssm';
import { NO_POOL, type StringPool } from './stringPool.js';

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
  /** `tcp` or `udp`; absent means tcp. */
  protocol?: string;
  /** A binding of a range of ports: `"9000-9099"` on the container ... */
  containerPortRange?: string;
  /** ... bound to this range of the host. */
  hostPortRange?: string;
}

/** A running container of a task, as DescribeTasks reports it. */
export interface ContainerRecord {
  name?: string;
  arn?: string;
  /** `networkInterfaces[0].privateIpv4Address` (awsvpc mode). */
  privateIp?: string;
  /** `networkInterfaces[0].ipv6Address` (awsvpc mode). */
  ipv6?: string;
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
  /** The `ipv6Address` detail of the task's ENI attachment (awsvpc mode). */
  eniIpv6?: string;
  /** The `subnetId` detail of the task's ENI attachment (awsvpc mode). */
  subnetId?: string;
  desiredStatus?: string;
  /** `LINUX`, `WINDOWS_SERVER_2022_CORE`, ... (Fargate). */
  platformFamily?: string;
  /** The Fargate platform version, `1.4.0`. */
  platformVersion?: string;
  capacityProviderName?: string;
  /** Who started the task: a service's deployment id (`ecs-svc/...`), or what RunTask was given. */
  startedBy?: string;
  tags: Record<string, string>;
  containers: ContainerRecord[];
  /** ECS's version of the task's state: each change increments it (task state change events carry it too). */
  version?: number;
}

/** A port mapping of a container definition. */
export interface PortMapping {
  containerPort?: unknown;
  hostPort?: unknown;
  /** `tcp` or `udp`; absent means tcp. */
  protocol?: string;
  /** A mapping of a range of ports (`"9000-9099"`) instead of one. */
  containerPortRange?: string;
}

/** A container definition of a task definition. */
export interface ContainerDefinitionRecord {
  name?: string;
  image?: string;
  environment: Record<string, string>;
  dockerLabels: Record<string, string>;
  portMappings: PortMapping[];
  /** The definition has a health check: its task's health becomes HEALTHY or UNHEALTHY, not UNKNOWN for ever. */
  healthCheck?: true;
}

/** A task definition, as DescribeTaskDefinition reports it. */
export interface TaskDefinitionRecord {
  arn: string;
  family?: string;
  revision?: number;
  /** Absent means ECS's default on Linux EC2 hosts: `bridge`. */
  networkMode?: string;
  /** `requiresCompatibilities` (EC2, FARGATE, EXTERNAL), when the definition says. */
  requiresCompatibilities?: string[];
  containers: ContainerDefinitionRecord[];
}

/**
 * The host behind a container instance (bridge and host modes): an EC2 instance, or with ECS
 * Anywhere an SSM managed instance (`mi-…`).
 */
export interface HostRecord {
  containerInstanceArn: string;
  /** Absent when DescribeContainerInstances did not know the container instance. */
  instanceId?: string;
  /** False when EC2 (or SSM) did not return the instance (terminated, deregistered). */
  found?: boolean;
  /** Why the managed instance could not be looked up (SSM denied or failing). */
  unavailable?: string;
  /** The private IPv4 address. */
  privateIp?: string;
  /** The first IPv6 address: what an IPv6-only host has. */
  ipv6?: string;
  instanceType?: string;
  /** EC2 only: the public IPv4 address, the subnet and the instance's tags. */
  publicIp?: string;
  subnetId?: string;
  tags?: Readonly<Record<string, string>>;
}

/** ECS Anywhere: the container instance's `ec2InstanceId` is an SSM managed instance id. */
export const isManagedInstanceId = (instanceId: string): boolean => instanceId.startsWith('mi-');

export interface ClusterRef {
  name: string;
  arn: string;
  /** The cluster's tags, when they are read (`labels.clusterTags`). */
  tags?: Readonly<Record<string, string>>;
}

const isString = (value: unknown): value is string => typeof value === 'string';
const optionalString = (value: unknown): string | undefined => (isString(value) ? value : undefined);
/** An address as AWS gives it; an empty one is none, so that the next place to look for one is read. */
const addressOf = (value: unknown): string | undefined => (isString(value) && value !== '' ? value : undefined);
const arrayOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/** `{ [key]: value }` when value is a string, else nothing: rare fields cost no memory where they are absent. */
const ifPresent = <K extends string>(key: K, value: unknown): Partial<Record<K, string>> =>
  isString(value) ? ({ [key]: value } as Record<K, string>) : {};

/** What a mapping or binding says of its ports beyond the common case: a protocol other than TCP, a range. */
const portShape = (entry: Record<string, unknown>): { protocol?: string; containerPortRange?: string } => ({
  ...(isString(entry['protocol']) && entry['protocol'].toLowerCase() !== 'tcp' && { protocol: entry['protocol'] }),
  ...ifPresent('containerPortRange', entry['containerPortRange']),
});

/** Builds a name → value record from ECS `[{name, value}]` or `[{key, value}]` lists, or EC2's `[{Key, Value}]`. */
function fromPairs(value: unknown, nameKey: 'name' | 'key' | 'Key', valueKey: 'value' | 'Value' = 'value'): Record<string, string> {
  const record: Record<string, string> = {};
  for (const pair of arrayOf(value)) {
    if (isObject(pair) && isString(pair[nameKey]) && isString(pair[valueKey])) {
      record[pair[nameKey]] = pair[valueKey];
    }
  }
  return record;
}

/** ECS tags (`[{key, value}]`, as DescribeTasks and DescribeClusters answer them) as a record. */
export const toTagRecord = (tags: unknown): Record<string, string> => fromPairs(tags, 'key');

function fromStringMap(value: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  if (!isObject(value)) return record;
  for (const [name, entry] of Object.entries(value)) {
    if (isString(entry)) record[name] = entry;
  }
  return record;
}

/** A detail of the task's ENI attachment: `privateIPv4Address`, `ipv6Address`. */
function toEniDetail(task: Task, name: string): string | undefined {
  for (const attachment of arrayOf(task.attachments)) {
    if (!isObject(attachment)) continue;
    const value = fromPairs(attachment['details'], 'name')[name];
    if (value) return value;
  }
  return undefined;
}

/** Shared by every record without tags, or a container without bindings: most of them, in thousands of tasks. */
const NO_TAGS: Record<string, string> = Object.freeze({});
const NO_BINDINGS: PortBinding[] = Object.freeze([]) as unknown as PortBinding[];

/**
 * Trims a DescribeTasks task to what resolution reads; undefined when it has no ARN. The
 * strings that many tasks repeat (ARNs of the task definition and container instance, group,
 * zone, names) are taken from `pool`, so that thousands of cached tasks share one copy.
 */
export function toTaskRecord(task: Task, pool: Pick<StringPool, 'intern'> = NO_POOL): TaskRecord | undefined {
  if (!isObject(task) || !isString(task.taskArn) || task.taskArn === '') return undefined;
  const containers = arrayOf(task.containers)
    .filter(isObject)
    .map((container): ContainerRecord => {
      const firstInterface = arrayOf(container['networkInterfaces'])[0];
      const bindings = arrayOf(container['networkBindings']).filter(isObject);
      return {
        name: pool.intern(optionalString(container['name'])),
        arn: optionalString(container['containerArn']),
        privateIp: isObject(firstInterface) ? addressOf(firstInterface['privateIpv4Address']) : undefined,
        ...ifPresent('ipv6', isObject(firstInterface) ? addressOf(firstInterface['ipv6Address']) : undefined),
        bindings:
          bindings.length === 0
            ? NO_BINDINGS
            : bindings.map((binding) => ({
                containerPort: binding['containerPort'],
                hostPort: binding['hostPort'],
                bindIP: pool.intern(optionalString(binding['bindIP'])),
                ...portShape(binding),
                ...ifPresent('hostPortRange', binding['hostPortRange']),
              })),
      };
    });
  const tags = fromPairs(task.tags, 'key');
  return {
    arn: task.taskArn,
    taskDefinitionArn: pool.intern(optionalString(task.taskDefinitionArn)),
    lastStatus: pool.intern(optionalString(task.lastStatus)),
    launchType: pool.intern(optionalString(task.launchType)),
    availabilityZone: pool.intern(optionalString(task.availabilityZone)),
    group: pool.intern(optionalString(task.group)),
    healthStatus: pool.intern(optionalString(task.healthStatus)),
    containerInstanceArn: pool.intern(optionalString(task.containerInstanceArn)),
    eniPrivateIp: toEniDetail(task, 'privateIPv4Address'),
    ...ifPresent('eniIpv6', toEniDetail(task, 'ipv6Address')),
    ...ifPresent('subnetId', pool.intern(toEniDetail(task, 'subnetId'))),
    ...ifPresent('desiredStatus', pool.intern(optionalString(task.desiredStatus))),
    ...ifPresent('platformFamily', pool.intern(optionalString(task.platformFamily))),
    ...ifPresent('platformVersion', pool.intern(optionalString(task.platformVersion))),
    ...ifPresent('capacityProviderName', pool.intern(optionalString(task.capacityProviderName))),
    ...ifPresent('startedBy', pool.intern(optionalString(task.startedBy))),
    tags: Object.keys(tags).length === 0 ? NO_TAGS : tags,
    containers,
    ...(typeof task.version === 'number' && Number.isSafeInteger(task.version) && { version: task.version }),
  };
}

/**
 * Whether two records of plain data (texts, numbers, flags, lists and objects of them, as
 * toTaskRecord builds) hold the same values; a key whose value is undefined counts as absent.
 * A refresh compares each task it describes with its cached record: util.isDeepStrictEqual,
 * which also weighs prototypes, symbols and cycles, took five to seven times as long.
 */
export function isSameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let index = 0; index < a.length; index++) if (!isSameData(a[index], b[index])) return false;
    return true;
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  // for...in each way: no array of keys per record.
  for (const key in left) if (!isSameData(left[key], right[key])) return false;
  for (const key in right) if (!(key in left) && right[key] !== undefined) return false;
  return true;
}

/**
 * A RUNNING task described again, with the runtime data (port bindings, addresses) that its
 * previous description had and this one lacks. ECS fills them in once and never takes them
 * back from a running task, so an answer without them is an odd answer, not a change: taking
 * it at its word would drop the task's targets.
 */
export function withRuntimeDataOf(next: TaskRecord, previous: TaskRecord | undefined): TaskRecord {
  if (previous === undefined || previous.arn !== next.arn) return next;
  const containers = next.containers.map((container): ContainerRecord => {
    const before = previous.containers.find((candidate) => candidate.name === container.name && candidate.arn === container.arn);
    if (before === undefined) return container;
    const hasAddress = container.privateIp !== undefined || container.ipv6 !== undefined;
    return {
      ...container,
      ...(!hasAddress && { privateIp: before.privateIp, ...ifPresent('ipv6', before.ipv6) }),
      ...(container.bindings.length === 0 && { bindings: before.bindings }),
    };
  });
  const hasEni = next.eniPrivateIp !== undefined || next.eniIpv6 !== undefined;
  return {
    ...next,
    ...(!hasEni && { eniPrivateIp: previous.eniPrivateIp, ...ifPresent('eniIpv6', previous.eniIpv6) }),
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
      ...portShape(mapping),
    })),
    ...(isObject(container.healthCheck) && { healthCheck: true as const }),
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
    ...(isObject(definition) &&
      Array.isArray(definition.requiresCompatibilities) && { requiresCompatibilities: definition.requiresCompatibilities.filter(isString) }),
    containers: isObject(definition)
      ? arrayOf(definition.containerDefinitions).filter(isObject).map(toContainerDefinitionRecord)
      : [],
  };
}

/** What resolution reads of the machine behind a container instance: its addresses, type, subnet and tags. */
export type HostDetails = Pick<HostRecord, 'privateIp' | 'ipv6' | 'instanceType' | 'publicIp' | 'subnetId' | 'tags'>;

/**
 * Trims a DescribeInstances instance: its private IPv4, else (IPv6-only) its first IPv6 address;
 * its type, public IPv4, subnet and tags, which the same answer holds.
 */
export function fromEc2Instance(instance: Instance): HostDetails {
  const firstInterface = arrayOf(instance.NetworkInterfaces)[0];
  const interfaceIpv6 = isObject(firstInterface) ? arrayOf(firstInterface['Ipv6Addresses'])[0] : undefined;
  const ipv6 = optionalString(instance.Ipv6Address) ?? (isObject(interfaceIpv6) ? optionalString(interfaceIpv6['Ipv6Address']) : undefined);
  const tags = fromPairs(instance.Tags, 'Key', 'Value');
  return {
    ...ifPresent('privateIp', instance.PrivateIpAddress || undefined),
    ...ifPresent('ipv6', ipv6),
    ...ifPresent('instanceType', instance.InstanceType),
    ...ifPresent('publicIp', instance.PublicIpAddress || undefined),
    ...ifPresent('subnetId', instance.SubnetId || undefined),
    ...(Object.keys(tags).length > 0 && { tags }),
  };
}

/** Trims a DescribeInstanceInformation entry (ECS Anywhere): its `IPAddress`, IPv4 or IPv6. */
export function fromManagedInstance(information: InstanceInformation): HostDetails {
  const ip = optionalString(information.IPAddress);
  if (ip === undefined || ip === '') return {};
  return ip.includes(':') ? { ipv6: ip } : { privateIp: ip };
}

/** The last segment of an ARN (`.../cluster-name/abc123` → `abc123`). */
export function lastArnSegment(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/** The account of an ARN (`arn:aws:ecs:eu-west-1:123456789012:...` → `123456789012`); '' when it has none. */
export function accountOfArn(arn: string): string {
  return arn.split(':')[4] ?? '';
}

/** The cluster name of a cluster ARN (`arn:aws:ecs:...:cluster/prod` → `prod`). */
export function clusterNameOf(clusterArn: string): string {
  return lastArnSegment(clusterArn);
}
