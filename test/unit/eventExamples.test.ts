import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, type Tags } from 'yaml';
import { CONTAINER_INSTANCE_STATE_CHANGE, TASK_STATE_CHANGE, parseEventMessage } from '../../src/aws/eventMessages.js';
import { FakeAws } from '../../src/fake/fakeAws.js';
import { FleetEvents } from '../../src/fake/fleetEvents.js';
import { addDefinition, addHost, emptyFleet, makeTaskDefinition } from '../../src/fake/fleet.js';

/**
 * examples/events/ must set up what the discoverer reads: the rule's pattern takes the events
 * it uses, the queue policy lets that rule (and only it) send, and the CloudFormation template
 * and the JSON files for the CLI say the same.
 */
const EVENTS = fileURLToPath(new URL('../../examples/events/', import.meta.url));
const read = (file: string) => readFileSync(join(EVENTS, file), 'utf8');

/** CloudFormation's short forms, as the objects of their long forms. */
const CLOUDFORMATION_TAGS: Tags = [
  { tag: '!Ref', resolve: (value: string) => ({ Ref: value }) },
  { tag: '!GetAtt', resolve: (value: string) => ({ 'Fn::GetAtt': value.split('.') }) },
  { tag: '!Sub', resolve: (value: string) => ({ 'Fn::Sub': value }) },
];

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}
interface Statement {
  Effect: string;
  Principal: { Service: string };
  Action: string;
  Resource: unknown;
  Condition: { ArnEquals: { 'aws:SourceArn': unknown } };
}

const template = parse(read('cloudformation.yaml'), { customTags: CLOUDFORMATION_TAGS, strict: true, uniqueKeys: true }) as {
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Value: unknown }>;
};
const pattern = JSON.parse(read('event-pattern.json')) as { source: string[]; 'detail-type': string[] };
const attributes = JSON.parse(read('queue-attributes.json')) as Record<string, string>;
const targets = JSON.parse(read('targets.json')) as { Id: string; Arn: string }[];

/** The part of EventBridge's matching the patterns use: each field's value is one of the listed ones. */
const matches = (event: Record<string, unknown>, eventPattern: Record<string, unknown[]>) =>
  Object.entries(eventPattern).every(([field, values]) => values.includes(event[field]));

/** The events the fake sends for a fleet change, as ECS sends them. */
function fakeEvents(): Record<string, unknown>[] {
  const fleet = emptyFleet();
  const definition = addDefinition(fleet, makeTaskDefinition('web', 1, 'bridge', [{ name: 'web', environment: { PROMETHEUS: '1' } }]));
  const host = addHost(fleet, 'prod', 'i-0123456789abcdef0', '127.0.0.1');
  const fake = new FakeAws(fleet);
  const bodies: string[] = [];
  fake.sqs.send = (body: string) => void bodies.push(body);
  const events = new FleetEvents(fake);
  events.announceContainerInstance('prod', host);
  events.startTask({ cluster: 'prod', id: 't1', definition, containerInstanceArn: host, containers: [{ name: 'web', bindings: [{ containerPort: 80, hostPort: 32768 }] }] });
  events.stopTask('prod', 't1');
  return bodies.map((body) => JSON.parse(body) as Record<string, unknown>);
}

describe('examples/events/cloudformation.yaml', () => {
  const resources = Object.values(template.Resources);
  const [queueName] = Object.entries(template.Resources).find(([, resource]) => resource.Type === 'AWS::SQS::Queue') ?? [];
  const [ruleName, rule] = Object.entries(template.Resources).find(([, resource]) => resource.Type === 'AWS::Events::Rule') ?? [];
  const policy = resources.find((resource) => resource.Type === 'AWS::SQS::QueuePolicy');

  it('has one queue, one rule and the queue policy', () => {
    expect(resources.map((resource) => resource.Type).sort()).toEqual(['AWS::Events::Rule', 'AWS::SQS::Queue', 'AWS::SQS::QueuePolicy']);
  });

  it('has a rule that takes exactly the ECS events the discoverer reads, and sends them to the queue', () => {
    expect(rule?.Properties['EventPattern']).toEqual({ source: ['aws.ecs'], 'detail-type': [TASK_STATE_CHANGE, CONTAINER_INSTANCE_STATE_CHANGE] });
    const ruleTargets = rule?.Properties['Targets'] as { Id: unknown; Arn: unknown }[];
    expect(ruleTargets.map((target) => target.Arn)).toEqual([{ 'Fn::GetAtt': [queueName, 'Arn'] }]);
    expect(typeof ruleTargets[0]?.Id).toBe('string');
    expect(rule?.Properties['State']).toBe('ENABLED');
  });

  it('lets that rule alone send to the queue', () => {
    const statements = (policy?.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement;

    expect(policy?.Properties['Queues']).toEqual([{ Ref: queueName }]);
    expect(statements).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [queueName, 'Arn'] },
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleName, 'Arn'] } } },
      }),
    ]);
  });

  it('gives the queue URL to set as events.queueUrl', () => {
    expect(template.Outputs['QueueUrl']?.Value).toEqual({ Ref: queueName });
  });

  it('has a queue that keeps messages long enough, and long polls', () => {
    const queue = template.Resources[queueName ?? '']?.Properties;

    expect(queue?.['ReceiveMessageWaitTimeSeconds']).toBe(20);
    expect(queue?.['MessageRetentionPeriod']).toBeGreaterThanOrEqual(3600);
  });
});

describe('examples/events JSON files for the CLI', () => {
  it('have the same event pattern as the template', () => {
    const rule = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::Events::Rule');

    expect(pattern).toEqual(rule?.Properties['EventPattern']);
  });

  it('have the same queue settings and policy as the template, the rule and queue named in full', () => {
    // Prepare
    const queue = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::SQS::Queue')?.Properties ?? {};
    const policy = JSON.parse(attributes['Policy'] ?? '{}') as { Statement: Statement[] };
    const [statement] = policy.Statement;

    // Assess
    expect(Object.fromEntries(Object.entries(queue).map(([name, value]) => [name, String(value)]))).toEqual(
      Object.fromEntries(Object.entries(attributes).filter(([name]) => name !== 'Policy')),
    );
    expect(statement).toMatchObject({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage' });
    expect(statement?.Resource).toBe(targets[0]?.Arn);
    expect(statement?.Condition.ArnEquals['aws:SourceArn']).toMatch(/^arn:aws:events:eu-west-1:123456789012:rule\/[\w.-]+$/);
    expect(targets).toHaveLength(1);
    expect(targets[0]?.Arn).toMatch(/^arn:aws:sqs:eu-west-1:123456789012:[\w-]+$/);
    expect(typeof targets[0]?.Id).toBe('string');
  });
});

describe('the event pattern', () => {
  it('takes every event the fake sends for a fleet change, which the discoverer reads', () => {
    const sent = fakeEvents();

    expect(sent.length).toBeGreaterThanOrEqual(5);
    for (const event of sent) {
      expect(matches(event, pattern), `${String(event['detail-type'])} matches`).toBe(true);
      expect(parseEventMessage(JSON.stringify(event)).kind).not.toBe('unreadable');
    }
  });

  it('leaves out ECS events the discoverer does not use', () => {
    expect(matches({ source: 'aws.ecs', 'detail-type': 'ECS Service Action' }, pattern)).toBe(false);
    expect(matches({ source: 'aws.ecs', 'detail-type': 'ECS Deployment State Change' }, pattern)).toBe(false);
  });
});
