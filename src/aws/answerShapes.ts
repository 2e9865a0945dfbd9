import type { Instance } from '@aws-sdk/client-ec2';
import type { Cluster, ContainerInstance, Task, TaskDefinition } from '@aws-sdk/client-ecs';
import type { InstanceInformation } from '@aws-sdk/client-ssm';
import { MalformedAnswerError } from '../errors.js';

/**
 * Checks that an AWS answer has the shape its API promises, in the fields the discoverer reads,
 * before anything of it is used or cached. An answer that contradicts the shape (a list that is
 * not a list, a status that is a number) says nothing reliable about the fleet: believing it
 * would drop targets, so it fails the cluster for the round instead (MalformedAnswerError).
 *
 * What the SDK gives: its deserializer drops members that are JSON `null` (and an answer body
 * that is not a JSON object becomes `{}`), so a required list answered as `null` arrives as a
 * missing one; values of the wrong type are passed through as they are. Missing data that the
 * API allows (an optional field, an absent environment) stays the pure core's business: it
 * skips what it cannot use, with a reason. Ports stay unchecked beyond "a number or a text":
 * decimal strings are tolerated on purpose, and the core judges the value.
 */

type Fields = Record<string, unknown>;

const MAX_SHOWN = 60;

/** A value as the message shows it: JSON, cut short. */
function show(value: unknown): string {
  const text = value === undefined ? 'undefined' : (JSON.stringify(value) ?? typeof value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 3)}...` : text;
}

const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);

/** One answer of one action being checked; every failure names the action. */
class Answer {
  /** @param verb joins the action and the problem: "DescribeTasks answered a task whose ..." */
  constructor(
    readonly action: string,
    readonly verb = 'answered',
  ) {}

  error(problem: string): MalformedAnswerError {
    return new MalformedAnswerError(`${this.action} ${this.verb} ${problem}`);
  }

  /** `subject` is what holds the field ("a task"), or undefined at the top of the answer. */
  #wrong(subject: string | undefined, field: string, value: unknown, expected: string): MalformedAnswerError {
    return this.error(subject === undefined ? `${field} ${show(value)} (expected ${expected})` : `${subject} whose ${field} is ${show(value)} (expected ${expected})`);
  }

  #missing(subject: string | undefined, field: string, expected: string): MalformedAnswerError {
    return this.error(subject === undefined ? `no ${field} (null or missing; expected ${expected})` : `${subject} without ${field} (null or missing; expected ${expected})`);
  }

  /** A required list. */
  list(subject: string | undefined, fields: Fields, field: string): unknown[] {
    const value = fields[field];
    if (value === undefined) throw this.#missing(subject, field, 'a list');
    return this.optionalList(subject, fields, field);
  }

  /** A list when present; [] when absent. */
  optionalList(subject: string | undefined, fields: Fields, field: string): unknown[] {
    const value = fields[field];
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw this.#wrong(subject, field, value, 'a list');
    return value;
  }

  /** Each entry of a list is an object: `entry` names one ("a container"). */
  objects(entry: string, values: unknown[]): Fields[] {
    for (const value of values) if (!isFields(value)) throw this.error(`${entry} that is ${show(value)} (expected an object)`);
    return values as Fields[];
  }

  /** A required, non-empty text. */
  text(subject: string | undefined, fields: Fields, field: string): string {
    const value = fields[field];
    if (value === undefined) throw this.#missing(subject, field, 'a non-empty string');
    if (typeof value !== 'string' || value === '') throw this.#wrong(subject, field, value, 'a non-empty string');
    return value;
  }

  /** Texts when present. */
  optionalTexts(subject: string, fields: Fields, names: readonly string[]): void {
    for (const field of names) {
      const value = fields[field];
      if (value !== undefined && typeof value !== 'string') throw this.#wrong(subject, field, value, 'a string');
    }
  }

  /** Ports when present: a number, or a text that the core reads as one. */
  optionalPorts(subject: string, fields: Fields, names: readonly string[]): void {
    for (const field of names) {
      const value = fields[field];
      if (value !== undefined && typeof value !== 'number' && typeof value !== 'string') throw this.#wrong(subject, field, value, 'a number');
    }
  }

  /** An object when present. */
  optionalObject(subject: string, fields: Fields, field: string): Fields | undefined {
    const value = fields[field];
    if (value === undefined) return undefined;
    if (!isFields(value)) throw this.#wrong(subject, field, value, 'an object');
    return value;
  }

  /** A list of non-empty texts (ARNs). */
  texts(field: string, values: unknown[]): string[] {
    // By index: a page of 100 ARNs, checked a few times a round, mostly unoptimized (no result object per item).
    for (let index = 0; index < values.length; index++) {
      const value = values[index];
      if (typeof value !== 'string' || value === '') throw this.error(`a ${field} entry ${show(value)} (expected a non-empty string)`);
    }
    return values as string[];
  }

  /** `[{name, value}]` or `[{key, value}]` pairs when present. */
  optionalPairs(subject: string, fields: Fields, field: string, entry: string, names: readonly string[]): void {
    for (const pair of this.objects(entry, this.optionalList(subject, fields, field))) this.optionalTexts(entry, pair, names);
  }
}

/** The next-page token of a listing: absent, or a text. */
export function checkNextToken(action: string, token: unknown): string | undefined {
  if (token !== undefined && typeof token !== 'string') throw new Answer(action).error(`a next-page token ${show(token)} (expected a string)`);
  return token;
}

/** ListClusters: its `clusterArns`. */
export function checkListClusters(output: object): string[] {
  const answer = new Answer('ListClusters');
  return answer.texts('clusterArns', answer.list(undefined, output as Fields, 'clusterArns'));
}

/** ListTasks: its `taskArns`. */
export function checkListTasks(output: object): string[] {
  const answer = new Answer('ListTasks');
  return answer.texts('taskArns', answer.list(undefined, output as Fields, 'taskArns'));
}

/** DescribeTasks: its `tasks`, each as resolution reads it. */
export function checkDescribeTasks(output: object): Task[] {
  const answer = new Answer('DescribeTasks');
  const tasks = answer.objects('a task', answer.list(undefined, output as Fields, 'tasks'));
  for (const task of tasks) checkTask(answer, task);
  return tasks;
}

/** A task as resolution reads it: in DescribeTasks' answer, or in a task state change event. */
function checkTask(answer: Answer, task: Fields): void {
  answer.text('a task', task, 'taskArn');
  answer.optionalTexts('a task', task, [
    'taskDefinitionArn',
    'lastStatus',
    'launchType',
    'availabilityZone',
    'group',
    'healthStatus',
    'containerInstanceArn',
    'desiredStatus',
    'platformFamily',
    'platformVersion',
    'capacityProviderName',
    'startedBy',
  ]);
  answer.optionalPairs('a task', task, 'tags', 'a tag', ['key', 'value']);
  for (const attachment of answer.objects('an attachment', answer.optionalList('a task', task, 'attachments'))) {
    answer.optionalPairs('an attachment', attachment, 'details', 'an attachment detail', ['name', 'value']);
  }
  for (const container of answer.objects('a container', answer.optionalList('a task', task, 'containers'))) {
    answer.optionalTexts('a container', container, ['name', 'containerArn']);
    for (const networkInterface of answer.objects('a network interface', answer.optionalList('a container', container, 'networkInterfaces'))) {
      answer.optionalTexts('a network interface', networkInterface, ['privateIpv4Address', 'ipv6Address']);
    }
    for (const binding of answer.objects('a network binding', answer.optionalList('a container', container, 'networkBindings'))) {
      answer.optionalTexts('a network binding', binding, ['bindIP', 'protocol', 'containerPortRange', 'hostPortRange']);
      answer.optionalPorts('a network binding', binding, ['containerPort', 'hostPort']);
    }
  }
}

/** The version of a task or container instance in an event's detail: a whole number. */
function checkVersion(answer: Answer, subject: string, fields: Fields): number {
  const version = fields['version'];
  if (!Number.isSafeInteger(version) || (version as number) < 0) {
    throw answer.error(`${subject} whose version is ${show(version)} (expected a whole number)`);
  }
  return version as number;
}

/**
 * The detail of an "ECS Task State Change" event: a task in DescribeTasks' shape, with its
 * cluster, statuses and version, which ordering events needs.
 */
export function checkTaskEvent(detail: unknown): Task & { taskArn: string; clusterArn: string; lastStatus: string; version: number } {
  const answer = new Answer('ECS Task State Change event', 'with');
  if (!isFields(detail)) throw answer.error(`a detail ${show(detail)} (expected an object)`);
  checkTask(answer, detail);
  answer.text('a task', detail, 'clusterArn');
  answer.text('a task', detail, 'lastStatus');
  answer.optionalTexts('a task', detail, ['desiredStatus']);
  checkVersion(answer, 'a task', detail);
  return detail as unknown as Task & { taskArn: string; clusterArn: string; lastStatus: string; version: number };
}

/** The detail of an "ECS Container Instance State Change" event: which EC2 (or managed) instance a container instance is. */
export function checkContainerInstanceEvent(detail: unknown): { containerInstanceArn: string; clusterArn: string; ec2InstanceId?: string; version: number } {
  const answer = new Answer('ECS Container Instance State Change event', 'with');
  if (!isFields(detail)) throw answer.error(`a detail ${show(detail)} (expected an object)`);
  answer.text('a container instance', detail, 'containerInstanceArn');
  answer.text('a container instance', detail, 'clusterArn');
  answer.optionalTexts('a container instance', detail, ['ec2InstanceId']);
  checkVersion(answer, 'a container instance', detail);
  return detail as { containerInstanceArn: string; clusterArn: string; ec2InstanceId?: string; version: number };
}

/** DescribeTaskDefinition: its `taskDefinition`, as resolution reads it. */
export function checkTaskDefinition(output: object): TaskDefinition {
  const answer = new Answer('DescribeTaskDefinition');
  const value = (output as Fields)['taskDefinition'];
  if (value === undefined) throw answer.error('no taskDefinition (null or missing; expected an object)');
  if (!isFields(value)) throw answer.error(`taskDefinition ${show(value)} (expected an object)`);
  const definition = value;
  answer.optionalTexts('a task definition', definition, ['family', 'networkMode']);
  const revision = definition['revision'];
  if (revision !== undefined && !Number.isInteger(revision)) throw answer.error(`a task definition whose revision is ${show(revision)} (expected a whole number)`);
  for (const container of answer.objects('a container definition', answer.list('a task definition', definition, 'containerDefinitions'))) {
    answer.optionalTexts('a container definition', container, ['name', 'image']);
    answer.optionalPairs('a container definition', container, 'environment', 'an environment entry', ['name', 'value']);
    answer.optionalObject('a container definition', container, 'healthCheck');
    const labels = answer.optionalObject('a container definition', container, 'dockerLabels');
    if (labels !== undefined) answer.optionalTexts('a dockerLabels map', labels, Object.keys(labels));
    for (const mapping of answer.objects('a port mapping', answer.optionalList('a container definition', container, 'portMappings'))) {
      answer.optionalTexts('a port mapping', mapping, ['protocol', 'containerPortRange']);
      answer.optionalPorts('a port mapping', mapping, ['containerPort', 'hostPort']);
    }
  }
  return definition;
}

/** DescribeClusters: its `clusters`, each with its ARN and, when asked for, its tags. */
export function checkDescribeClusters(output: object): Cluster[] {
  const answer = new Answer('DescribeClusters');
  const clusters = answer.objects('a cluster', answer.list(undefined, output as Fields, 'clusters'));
  for (const cluster of clusters) {
    answer.text('a cluster', cluster, 'clusterArn');
    answer.optionalPairs('a cluster', cluster, 'tags', 'a tag', ['key', 'value']);
  }
  return clusters;
}

/** DescribeContainerInstances: its `containerInstances`. */
export function checkContainerInstances(output: object): ContainerInstance[] {
  const answer = new Answer('DescribeContainerInstances');
  const instances = answer.objects('a container instance', answer.list(undefined, output as Fields, 'containerInstances'));
  for (const instance of instances) {
    answer.text('a container instance', instance, 'containerInstanceArn');
    answer.optionalTexts('a container instance', instance, ['ec2InstanceId']);
  }
  return instances;
}

/** A DescribeInstances page (EC2): the instances of its reservations. */
export function checkInstances(output: object): Instance[] {
  const answer = new Answer('DescribeInstances');
  const instances: Fields[] = [];
  for (const reservation of answer.objects('a reservation', answer.list(undefined, output as Fields, 'Reservations'))) {
    instances.push(...answer.objects('an instance', answer.optionalList('a reservation', reservation, 'Instances')));
  }
  for (const instance of instances) {
    answer.text('an instance', instance, 'InstanceId');
    answer.optionalTexts('an instance', instance, ['PrivateIpAddress', 'Ipv6Address', 'InstanceType', 'PublicIpAddress', 'SubnetId']);
    answer.optionalPairs('an instance', instance, 'Tags', 'a tag', ['Key', 'Value']);
    for (const networkInterface of answer.objects('a network interface', answer.optionalList('an instance', instance, 'NetworkInterfaces'))) {
      answer.optionalPairs('a network interface', networkInterface, 'Ipv6Addresses', 'an IPv6 address', ['Ipv6Address']);
    }
  }
  return instances;
}

/** A DescribeInstanceInformation page (SSM, ECS Anywhere hosts): its `InstanceInformationList`. */
export function checkInstanceInformation(output: object): InstanceInformation[] {
  const answer = new Answer('DescribeInstanceInformation');
  const list = answer.objects('an instance', answer.list(undefined, output as Fields, 'InstanceInformationList'));
  for (const information of list) {
    answer.text('an instance', information, 'InstanceId');
    answer.optionalTexts('an instance', information, ['IPAddress']);
  }
  return list;
}
