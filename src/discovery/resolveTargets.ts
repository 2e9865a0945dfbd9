import { readContainerSettings, type ContainerSettings, type SettingsOptions } from './containerSettings.js';
import type { IntervalName } from './endpoints.js';
import { sanitizeLabelName } from './labels.js';
import {
  accountOfArn,
  isManagedInstanceId,
  lastArnSegment,
  type ClusterRef,
  type ContainerDefinitionRecord,
  type ContainerRecord,
  type HostRecord,
  type TaskDefinitionRecord,
  type TaskRecord,
} from './model.js';
import { resolveContainerPort, resolvePort } from './ports.js';

/** Why a marked container yields no target. The values are metric label values. */
export const SKIP_REASONS = [
  'task_definition_unavailable',
  'unsupported_network_mode',
  'no_ip',
  'container_instance_not_found',
  'host_not_found',
  'managed_instance_unavailable',
  'bad_port',
  'no_port_binding',
  'bad_scrape_entry',
  'health_filtered',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** Names of the labels that identify where a target runs (README, "Labels", step 3). */
export interface LabelNames {
  cluster: string;
  taskVersion: string;
  taskId: string;
  containerId: string;
  instanceId: string;
}

/**
 * Whether a Fargate task's `container_id` and `instance_id` are left out: kept (ours), when it
 * runs on Fargate (prometheus-ecs-sd), or when its definition requires Fargate
 * (prometheus-ecs-discoverer, even when it runs on EC2).
 */
export const FARGATE_IDS = ['keep', 'launchType', 'compatibility'] as const;
export type FargateIds = (typeof FARGATE_IDS)[number];

/**
 * Which tasks are scraped by their health status: any; only HEALTHY ones; all but UNHEALTHY ones.
 * A task left out is skipped as `health_filtered`.
 */
export const HEALTH_FILTERS = ['any', 'healthy', 'not-unhealthy'] as const;
export type HealthFilter = (typeof HEALTH_FILTERS)[number];

/** How containers are read (SettingsOptions) and how their targets are labelled. */
export interface ResolveOptions extends SettingsOptions {
  labelNames: LabelNames;
  /** @default 'keep' */
  fargateIds?: FargateIds;
  /** @default 'any' */
  healthFilter?: HealthFilter;
}

/** Everything known about one task: the input of resolution. */
export interface TaskContext {
  region?: string;
  cluster: ClusterRef;
  task: TaskRecord;
  /** Undefined when the task definition could not be described. */
  definition: TaskDefinitionRecord | undefined;
  /** The EC2 host, for tasks on a container instance. */
  host: HostRecord | undefined;
}

/** One scrape target: the entry of one target group (one per container and path). */
export interface Target {
  interval: IntervalName;
  cluster: string;
  address: string;
  /** In no particular order: toPublishedGroup writes them sorted. */
  labels: Record<string, string>;
}

/** Identifies a container (or, with container `*`, a whole task) in skips and warnings. */
export interface ContainerRef {
  cluster: string;
  taskArn: string;
  container: string;
  /** The task's family and revision, and its service, so that an operator knows whose it is. */
  family: string;
  revision?: number;
  service?: string;
}

export interface Skip extends ContainerRef {
  reason: SkipReason;
  detail: string;
  /**
   * The data that would answer is runtime data ECS fills in later (a binding, an address): the
   * task is described again next round instead of being kept as it is.
   */
  transient?: boolean;
}

export interface Warning extends ContainerRef {
  message: string;
}

export interface Resolution {
  targets: Target[];
  skips: Skip[];
  warnings: Warning[];
  /** Containers that carry the marker (resolved or skipped). */
  marked: number;
  /**
   * Settings of other conventions' markers seen in containers that are not marked, by name
   * (`PROMETHEUS_TARGET`, `docker label PROMETHEUS_EXPORTER_PORT`): what `check` suggests when
   * nothing is marked.
   */
  markerHints: string[];
}

/** Names that mark a container in one of the conventions we read. */
const MARKER_LIKE = /^(PROMETHEUS|PROMETHEUS_TARGET|PROMETHEUS_SCRAPES|PROMETHEUS_EXPORTER_PORT|ECS_PROMETHEUS_EXPORTER_PORT)$/;

/** The marker-like settings of a container, as `check` names them. */
function markerHintsOf(container: ContainerDefinitionRecord): string[] {
  return [
    ...Object.keys(container.environment).filter((name) => MARKER_LIKE.test(name)),
    ...Object.keys(container.dockerLabels)
      .filter((name) => MARKER_LIKE.test(name))
      .map((name) => `docker label ${name}`),
  ];
}

/** The service of a task, from its group `service:<name>`. */
const serviceOf = (task: TaskRecord): string | undefined => (task.group?.startsWith('service:') ? task.group.slice('service:'.length) : undefined);

/** Windows' `default` mode publishes ports through bindings as bridge does. */
const toNetworkMode = (mode: string | undefined): string => (mode === undefined || mode === 'default' ? 'bridge' : mode);

type Problem = { reason: SkipReason; detail: string; transient?: boolean };

/** The address of a target: an IPv6 address in brackets (`[2001:db8::7]:9100`), as Prometheus reads it. */
export const toAddress = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/** The scrape IP: IPv4 first, IPv6 where a task or host has only that (SEMANTICS.md, "The address"). */
function resolveIp(
  mode: string,
  { task, host }: TaskContext,
  container: ContainerRecord | undefined,
): { ip: string } | Problem {
  if (mode === 'awsvpc') {
    const ip = container?.privateIp ?? task.eniPrivateIp ?? container?.ipv6 ?? task.eniIpv6;
    return ip
      ? { ip }
      : { reason: 'no_ip', detail: 'awsvpc task without an address on its network interface (yet)', transient: true };
  }
  if (task.containerInstanceArn === undefined) {
    return { reason: 'no_ip', detail: `${mode} mode task without a container instance` };
  }
  if (host?.instanceId === undefined) {
    return {
      reason: 'container_instance_not_found',
      detail: `container instance ${task.containerInstanceArn} not found`,
    };
  }
  const managed = isManagedInstanceId(host.instanceId);
  if (host.unavailable !== undefined) {
    return { reason: 'managed_instance_unavailable', detail: `managed instance ${host.instanceId} could not be looked up: ${host.unavailable}` };
  }
  if (host.found === false) {
    return {
      reason: 'host_not_found',
      detail: managed ? `managed instance ${host.instanceId} not found (deregistered?)` : `EC2 instance ${host.instanceId} not found (terminated?)`,
    };
  }
  const ip = host.privateIp ?? host.ipv6;
  if (ip === undefined) {
    return { reason: 'no_ip', detail: `${managed ? 'managed' : 'EC2'} instance ${host.instanceId} has no IP address` };
  }
  return { ip };
}

/** Sets a label when its value says something: undefined and empty values make no label. */
function putDefined(labels: Record<string, string>, values: Record<string, string | undefined>): void {
  for (const name in values) {
    const value = values[name];
    if (value !== undefined && value !== '') labels[name] = value;
  }
}

/** Labels of `[name, value]` pairs, as an object of them would hold them (the last of a name wins), without the empty ones. */
function toDefinedPairs(pairs: Iterable<[string, string]>): (readonly [string, string])[] {
  const byName = new Map<string, string>();
  for (const [name, value] of pairs) byName.set(name, value);
  return [...byName].filter(([, value]) => value !== '');
}

/** `__meta_ecs_container_label_*`: the same for every task of the definition, so made once (see factsOf). */
function toDockerMeta(containerDefinition: ContainerDefinitionRecord): (readonly [string, string])[] {
  return toDefinedPairs(
    Object.entries(containerDefinition.dockerLabels).map(([name, value]): [string, string] => [`__meta_ecs_container_label_${sanitizeLabelName(name)}`, value]),
  );
}

const NO_PAIRS: readonly (readonly [string, string])[] = Object.freeze([]);

/** Labels named `<prefix><name>` from a record of tags (task, cluster, EC2 instance), made only when there are tags. */
function toTagPairs(prefix: string, tags: Readonly<Record<string, string>> | undefined): readonly (readonly [string, string])[] {
  if (tags === undefined || Object.keys(tags).length === 0) return NO_PAIRS;
  return toDefinedPairs(Object.entries(tags).map(([name, value]): [string, string] => [`${prefix}${sanitizeLabelName(name)}`, value]));
}

/** `__meta_ecs_*` labels: the names of Prometheus' own `ecs` role where it has the same thing. Written into `labels`. */
function putMetaLabels(
  labels: Record<string, string>,
  context: TaskContext,
  definition: TaskDefinitionRecord,
  containerDefinition: ContainerDefinitionRecord,
  facts: ContainerFacts,
  mode: string,
  ip: string,
): void {
  const { task, host, cluster } = context;
  const ec2 = host?.instanceId !== undefined && !isManagedInstanceId(host.instanceId);
  putDefined(labels, {
    __meta_ecs_account_id: accountOfArn(cluster.arn),
    __meta_ecs_cluster: cluster.name,
    __meta_ecs_cluster_arn: cluster.arn,
    __meta_ecs_region: context.region,
    __meta_ecs_service: serviceOf(task),
    __meta_ecs_task_arn: task.arn,
    __meta_ecs_task_definition: definition.arn,
    __meta_ecs_task_group: task.group,
    __meta_ecs_launch_type: task.launchType,
    __meta_ecs_availability_zone: task.availabilityZone,
    __meta_ecs_network_mode: mode,
    __meta_ecs_health_status: task.healthStatus,
    __meta_ecs_desired_status: task.desiredStatus,
    __meta_ecs_last_status: task.lastStatus,
    __meta_ecs_platform_family: task.platformFamily,
    __meta_ecs_platform_version: task.platformVersion,
    // As Prometheus' role: the ENI's subnet in awsvpc mode, the host's in bridge and host mode.
    __meta_ecs_subnet_id: mode === 'awsvpc' ? task.subnetId : host?.subnetId,
    __meta_ecs_capacity_provider: task.capacityProviderName,
    __meta_ecs_task_started_by: task.startedBy,
    __meta_ecs_ip_address: ip,
    __meta_ecs_container_instance_arn: task.containerInstanceArn,
    __meta_ecs_ec2_instance_id: host?.instanceId,
    __meta_ecs_ec2_instance_type: host?.instanceType,
    __meta_ecs_ec2_instance_private_ip: host?.privateIp,
    __meta_ecs_ec2_instance_public_ip: ec2 ? host.publicIp : undefined,
    __meta_ecs_task_definition_family: definition.family,
    __meta_ecs_task_definition_revision: definition.revision?.toString(),
    __meta_ecs_container_name: containerDefinition.name,
    __meta_ecs_container_image: containerDefinition.image,
  });
  for (const [name, value] of facts.dockerMeta) labels[name] = value;
  for (const [name, value] of toTagPairs('__meta_ecs_tag_task_', task.tags)) labels[name] = value;
  for (const [name, value] of toTagPairs('__meta_ecs_tag_cluster_', cluster.tags)) labels[name] = value;
  for (const [name, value] of toTagPairs('__meta_ecs_tag_ec2_', ec2 ? host.tags : undefined)) labels[name] = value;
}

/** Whether the ids of a Fargate task are left out (compatibility: as prometheus-ecs-discoverer and prometheus-ecs-sd do). */
function dropsFargateIds(task: TaskRecord, definition: TaskDefinitionRecord, rule: FargateIds | undefined): boolean {
  if (rule === 'launchType') return task.launchType === 'FARGATE';
  if (rule === 'compatibility') return definition.requiresCompatibilities?.includes('FARGATE') ?? false;
  return false;
}

/**
 * The labels of a container's targets, but for those of the address and path: ours
 * (SEMANTICS.md, "Labels of each target group"), or teralytics', sepich's or ecs_observer's set
 * for their users. Written into one object, each kind over the one before it, as spreading them
 * would give, without the copies (thousands of tasks of some 30 labels each).
 */
function toBaseLabels(
  context: TaskContext,
  definition: TaskDefinitionRecord,
  containerDefinition: ContainerDefinitionRecord,
  container: ContainerRecord | undefined,
  facts: ContainerFacts,
  settings: ContainerSettings,
  mode: string,
  ip: string,
  family: string,
  options: ResolveOptions,
): Record<string, string> {
  const { task, cluster } = context;
  const labels: Record<string, string> = {};
  if (settings.labelStyle === 'teralytics') {
    // teralytics/prometheus-ecs-discovery's set: no instance (Prometheus sets it), no job unless the label gives one.
    putMetaLabels(labels, context, definition, containerDefinition, facts, mode, ip);
    putDefined(labels, {
      task_arn: task.arn,
      task_name: family,
      job: settings.job,
      task_revision: definition.revision?.toString(),
      task_group: task.group,
      cluster_arn: cluster.arn,
      container_name: containerDefinition.name,
      container_arn: container?.arn,
      docker_image: containerDefinition.image,
    });
    return labels;
  }

  if (settings.labelStyle === 'sepich') {
    // sepich/prometheus-ecs-sd's set: its PROMETHEUS_LABELS first, then the task and container (no job: the scrape config's).
    putMetaLabels(labels, context, definition, containerDefinition, facts, mode, ip);
    Object.assign(labels, settings.customLabels);
    putDefined(labels, {
      container_name: containerDefinition.name,
      task_name: family,
      task_revision: definition.revision?.toString(),
      container_arn: container?.arn,
      instance_id: context.host?.instanceId,
      __container_image: containerDefinition.image,
      __task_group: task.group,
    });
    return labels;
  }

  if (settings.labelStyle === 'ecs-observer') {
    // ecs_observer's (and the CloudWatch agent's) set: the path, and a job only when the label gives one (else the scrape config's).
    putMetaLabels(labels, context, definition, containerDefinition, facts, mode, ip);
    putDefined(labels, { job: settings.job });
    return labels;
  }

  // Custom labels first: they never override the others.
  Object.assign(labels, settings.customLabels);
  if (!settings.noLabels) {
    const names = options.labelNames;
    const withoutIds = dropsFargateIds(task, definition, options.fargateIds);
    putDefined(labels, {
      [names.cluster]: cluster.name,
      [names.taskVersion]: definition.revision?.toString(),
      [names.taskId]: lastArnSegment(task.arn),
      [names.containerId]: withoutIds || container?.arn === undefined ? undefined : lastArnSegment(container.arn),
      [names.instanceId]: withoutIds ? undefined : context.host?.instanceId,
    });
  }
  putMetaLabels(labels, context, definition, containerDefinition, facts, mode, ip);
  return labels;
}

/** One descriptor for every label defined (see defineLabel): none made per label. */
const LABEL: PropertyDescriptor & { value: string } = { value: '', enumerable: true, writable: true, configurable: true };

/**
 * Sets a label by definition, not assignment: V8 keeps an object given its names by
 * assignment, across the many label sets of a fleet, as a hash table (some 1.6 KB for 30
 * labels), and one given them by definition in its compact form (some 300 bytes, the hidden
 * class shared with every set of the same names). A target's labels are held for as long
 * as its task runs.
 */
function defineLabel(labels: Record<string, string>, name: string, value: string): void {
  LABEL.value = value;
  Object.defineProperty(labels, name, LABEL);
}

/**
 * The labels of one target: the container's, with those of its address and path over them,
 * defined in sorted order, so that its group's text needs no sorting at each write (see
 * toGroupJson): a target is resolved once, and written at every change of its file.
 */
function toTargetLabels(base: Record<string, string>, settings: ContainerSettings, family: string, address: string, path: string): Record<string, string> {
  const over: [string, string][] = [];
  if (settings.labelStyle === 'teralytics') {
    if (settings.pathGiven) over.push(['__metrics_path__', path]);
  } else if (settings.labelStyle === 'sepich' || settings.labelStyle === 'ecs-observer') {
    over.push(['__metrics_path__', path]);
  } else {
    over.push(['instance', settings.noLabels ? family : address], ['job', settings.job ?? family], ['metrics_path', path], ['__metrics_path__', path]);
  }
  if (settings.scheme !== undefined) over.push(['__scheme__', settings.scheme]);
  const names = Object.keys(base);
  for (const [name] of over) if (!Object.hasOwn(base, name)) names.push(name);
  names.sort();
  const labels: Record<string, string> = {};
  for (const name of names) defineLabel(labels, name, base[name] ?? '');
  // In the places just defined: the order stays.
  for (const [name, value] of over) labels[name] = value;
  return labels;
}

/**
 * What resolution reads of a container definition, whatever the task: its settings, and what
 * its docker labels give. Tasks of one definition share it, so it is worked out once per
 * definition record (the reader keeps one record per task definition) and options.
 */
interface ContainerFacts {
  readonly options: ResolveOptions;
  readonly settings: ContainerSettings | undefined;
  /** For an unmarked container: the marker-like settings it has (see Resolution.markerHints). */
  readonly markerHints: readonly string[];
  readonly dockerMeta: readonly (readonly [string, string])[];
}

const containerFacts = new WeakMap<ContainerDefinitionRecord, ContainerFacts>();

function factsOf(containerDefinition: ContainerDefinitionRecord, options: ResolveOptions): ContainerFacts {
  const known = containerFacts.get(containerDefinition);
  if (known?.options === options) return known;
  const settings = readContainerSettings(containerDefinition, options);
  const facts: ContainerFacts = {
    options,
    settings,
    markerHints: settings === undefined ? markerHintsOf(containerDefinition) : [],
    dockerMeta: settings === undefined ? NO_PAIRS : toDockerMeta(containerDefinition),
  };
  containerFacts.set(containerDefinition, facts);
  return facts;
}

/**
 * Why the health filter leaves a task out; undefined when it keeps it. A task whose health
 * checks have not answered yet (UNKNOWN, with a health check in its definition) is described
 * again next round, so that it is scraped as soon as it turns HEALTHY; without any health check
 * it stays UNKNOWN, and waits for the task refresh like any other.
 */
function healthProblem(task: TaskRecord, definition: TaskDefinitionRecord, filter: HealthFilter | undefined): Problem | undefined {
  const status = task.healthStatus ?? 'UNKNOWN';
  if (filter === undefined || filter === 'any') return undefined;
  if (filter === 'not-unhealthy') {
    return status === 'UNHEALTHY' ? { reason: 'health_filtered', detail: 'task health status UNHEALTHY; healthFilter not-unhealthy leaves it out' } : undefined;
  }
  if (status === 'HEALTHY') return undefined;
  const checked = definition.containers.some((container) => container.healthCheck === true);
  const why = status !== 'UNKNOWN' ? '' : checked ? ' (its health checks have not answered yet: described again next round)' : ' (no container of its task definition has a health check: it stays UNKNOWN)';
  return {
    reason: 'health_filtered',
    detail: `task health status ${status}; healthFilter healthy scrapes only HEALTHY tasks${why}`,
    ...(status === 'UNKNOWN' && checked && { transient: true }),
  };
}

/**
 * Resolves the targets of one task: one per marked container and metrics path, following the
 * README's rules ("Marking containers"). Never throws on odd data: a container that cannot be
 * scraped becomes a skip with its reason, and the other containers of the task still resolve.
 */
export function resolveTaskTargets(context: TaskContext, options: ResolveOptions): Resolution {
  const resolution: Resolution = { targets: [], skips: [], warnings: [], marked: 0, markerHints: [] };
  const { cluster, task, definition } = context;
  // An empty family (odd data) would make an empty job and, with NOLABELS, an empty instance.
  const fromArn = () => lastArnSegment(definition?.arn ?? task.taskDefinitionArn ?? '').split(':');
  const family = definition?.family || fromArn()[0] || definition?.arn || '(unknown)';
  const arnRevision = definition?.revision === undefined ? fromArn()[1] : undefined;
  const revision = definition?.revision ?? (arnRevision !== undefined && /^\d+$/.test(arnRevision) ? Number(arnRevision) : undefined);
  const service = serviceOf(task);
  const ref = (container: string): ContainerRef => ({
    cluster: cluster.name,
    taskArn: task.arn,
    container,
    family,
    ...(revision !== undefined && { revision }),
    ...(service !== undefined && { service }),
  });

  if (definition === undefined) {
    resolution.skips.push({
      ...ref('*'),
      reason: 'task_definition_unavailable',
      detail: `task definition ${task.taskDefinitionArn ?? '(none)'} could not be described`,
    });
    return resolution;
  }

  const mode = toNetworkMode(definition.networkMode);
  // One skip for the whole task, when it has a marked container.
  const filtered = healthProblem(task, definition, options.healthFilter);

  for (const containerDefinition of definition.containers) {
    const facts = factsOf(containerDefinition, options);
    const { settings } = facts;
    if (settings === undefined) {
      resolution.markerHints.push(...facts.markerHints);
      continue;
    }
    resolution.marked += 1;
    if (filtered !== undefined) continue;

    const containerName = containerDefinition.name ?? '(unnamed)';
    const skip = (problem: Problem) => resolution.skips.push({ ...ref(containerName), ...problem });
    const warn = (message: string) => resolution.warnings.push({ ...ref(containerName), message });

    if (mode !== 'bridge' && mode !== 'host' && mode !== 'awsvpc') {
      skip({ reason: 'unsupported_network_mode', detail: `network mode "${mode}" has no scrapeable address` });
      continue;
    }
    const container = task.containers.find((candidate) => candidate.name === containerDefinition.name);
    const ip = resolveIp(mode, context, container);
    if ('reason' in ip) {
      skip(ip);
      continue;
    }
    settings.warnings.forEach(warn);
    for (const detail of settings.badEntries) skip({ reason: 'bad_scrape_entry', detail });

    const base = toBaseLabels(context, definition, containerDefinition, container, facts, settings, mode, ip.ip, family, options);
    const portInputs = { networkMode: mode, portMappings: containerDefinition.portMappings, bindings: container?.bindings ?? [] };
    for (const scrape of settings.scrapes) {
      const port =
        scrape.port.kind === 'rules'
          ? resolvePort({ ...portInputs, explicitPort: scrape.port.explicitPort, containerPort: scrape.port.containerPort })
          : resolveContainerPort(scrape.port.port, { ...portInputs, setting: scrape.port.setting, ...(scrape.port.mapped && { mapped: true }) });
      if ('reason' in port) {
        skip(port);
        continue;
      }
      const address = toAddress(settings.serverName ?? ip.ip, port.port);
      for (const endpoint of scrape.endpoints) {
        resolution.targets.push({ interval: endpoint.interval, cluster: cluster.name, address, labels: toTargetLabels(base, settings, family, address, endpoint.path) });
      }
    }
  }
  if (filtered !== undefined && resolution.marked > 0) resolution.skips.push({ ...ref('*'), ...filtered });
  return resolution;
}

