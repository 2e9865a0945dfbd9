import { DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { attachRawAnswerChecks, findNullInTaskDefinition } from '../../../src/aws/rawAnswerChecks.js';
import { MalformedAnswerError } from '../../../src/errors.js';

const ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7';

/** A DescribeTaskDefinition answer whose one container definition has `container`'s fields. */
const definitionAnswer = (container: Record<string, unknown>) =>
  JSON.stringify({ taskDefinition: { taskDefinitionArn: ARN, family: 'web', revision: 7, networkMode: 'bridge', containerDefinitions: [{ name: 'app', ...container }] } });

/** An ECS client whose every request is answered with `body` (200), as the bounded handler hands bodies over: whole, as bytes. */
function clientAnswering(body: string, { checked }: { checked: boolean }): ECSClient {
  const client = new ECSClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake' },
    maxAttempts: 1,
    requestHandler: {
      handle: async () => ({
        response: { statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: new TextEncoder().encode(body) },
      }),
    },
  });
  if (checked) attachRawAnswerChecks(client);
  return client;
}

describe('findNullInTaskDefinition', () => {
  it.each([
    { what: 'environment null', container: { environment: null }, problem: 'a container definition whose environment is null (expected a list)' },
    { what: 'dockerLabels null', container: { dockerLabels: null }, problem: 'a container definition whose dockerLabels is null (expected an object)' },
    { what: 'portMappings null', container: { portMappings: null }, problem: 'a container definition whose portMappings is null (expected a list)' },
    { what: 'an environment value null', container: { environment: [{ name: 'PROMETHEUS', value: null }] }, problem: 'an environment entry whose value is null (expected a string)' },
    { what: 'an environment name null', container: { environment: [{ name: null, value: 'true' }] }, problem: 'an environment entry whose name is null (expected a string)' },
    { what: 'a docker label value null', container: { dockerLabels: { PROMETHEUS: null } }, problem: 'a docker label "PROMETHEUS" whose value is null (expected a string)' },
  ])('finds $what', ({ container, problem }) => {
    expect(findNullInTaskDefinition(definitionAnswer(container))).toBe(problem);
  });

  it('finds nothing in a definition without nulls, where optional fields are absent, or in what is not JSON', () => {
    expect(findNullInTaskDefinition(definitionAnswer({ environment: [{ name: 'PROMETHEUS', value: 'true' }], dockerLabels: { team: 'a' }, portMappings: [] }))).toBeUndefined();
    expect(findNullInTaskDefinition(definitionAnswer({}))).toBeUndefined();
    expect(findNullInTaskDefinition('{"taskDefinition":null}')).toBeUndefined();
    expect(findNullInTaskDefinition('<html>')).toBeUndefined();
  });
});

describe('attachRawAnswerChecks', () => {
  it('fails a DescribeTaskDefinition answer whose container environment is null, which the SDK alone reads as no environment', async () => {
    const body = definitionAnswer({ environment: null, image: 'example/app:1' });

    const unchecked = await clientAnswering(body, { checked: false }).send(new DescribeTaskDefinitionCommand({ taskDefinition: ARN }));
    const checked = clientAnswering(body, { checked: true }).send(new DescribeTaskDefinitionCommand({ taskDefinition: ARN }));

    expect(unchecked.taskDefinition?.containerDefinitions?.[0]).toEqual({ name: 'app', image: 'example/app:1' });
    await expect(checked).rejects.toBeInstanceOf(MalformedAnswerError);
    await expect(checked).rejects.toThrow('DescribeTaskDefinition answered a container definition whose environment is null (expected a list)');
  });

  it('passes a DescribeTaskDefinition answer without nulls, and the answers of other actions, as the SDK reads them', async () => {
    const good = definitionAnswer({ environment: [{ name: 'PROMETHEUS', value: 'true' }] });

    const definition = await clientAnswering(good, { checked: true }).send(new DescribeTaskDefinitionCommand({ taskDefinition: ARN }));
    const tasks = await clientAnswering('{"tasks":[],"failures":[],"note":null}', { checked: true }).send(new DescribeTasksCommand({ cluster: 'prod', tasks: ['t'] }));

    expect(definition.taskDefinition?.containerDefinitions?.[0]?.environment).toEqual([{ name: 'PROMETHEUS', value: 'true' }]);
    expect(tasks.tasks).toEqual([]);
  });
});
