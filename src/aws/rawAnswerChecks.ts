import { MalformedAnswerError } from '../errors.js';
import type { ClientWithMiddleware } from './clientMiddleware.js';

/**
 * Checks of an answer's raw JSON, for what the SDK hides: its deserializer drops members that
 * are JSON `null`, so a task definition whose container `environment` is null reaches us as one
 * with no environment at all. The container would read as unmarked, and since task definitions
 * never change, its definition would be cached so for good. In the raw answer the null is
 * still there: such an answer is malformed (MalformedAnswerError), like every answer that
 * contradicts its API's shape, and nothing of it is cached.
 */

type Fields = Record<string, unknown>;

const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Fields of a container definition whose absence means something (no marker, no port mapping): null there is no absence. */
const CONTAINER_FIELDS = ['environment', 'dockerLabels', 'portMappings'] as const;

/**
 * What is null in a DescribeTaskDefinition answer, in the fields the discoverer reads, as the
 * log says it; undefined when nothing is (or the answer is not JSON: the SDK's deserializer and
 * the shape checks judge that).
 */
export function findNullInTaskDefinition(body: string): string | undefined {
  let answer: unknown;
  try {
    answer = JSON.parse(body);
  } catch {
    return undefined;
  }
  const definition = isFields(answer) ? answer['taskDefinition'] : undefined;
  const containers = isFields(definition) ? definition['containerDefinitions'] : undefined;
  if (!Array.isArray(containers)) return undefined;
  for (const container of containers) {
    if (!isFields(container)) continue;
    for (const field of CONTAINER_FIELDS) {
      if (container[field] === null) return `a container definition whose ${field} is null (expected ${field === 'dockerLabels' ? 'an object' : 'a list'})`;
    }
    for (const entry of Array.isArray(container['environment']) ? container['environment'] : []) {
      if (isFields(entry) && (entry['name'] === null || entry['value'] === null)) return `an environment entry whose ${entry['name'] === null ? 'name' : 'value'} is null (expected a string)`;
    }
    const labels = container['dockerLabels'];
    if (isFields(labels)) {
      const label = Object.keys(labels).find((name) => labels[name] === null);
      if (label !== undefined) return `a docker label ${JSON.stringify(label)} whose value is null (expected a string)`;
    }
  }
  return undefined;
}

const decoder = new TextDecoder();

/**
 * Adds the raw checks to an ECS client: between the SDK's deserializer and the HTTP handler, so
 * they see the answer's body before the SDK parses it. The bounded HTTP handler hands every body
 * over whole, as bytes; a body in any other form is left to the SDK.
 */
export function attachRawAnswerChecks(client: ClientWithMiddleware): void {
  const middleware =
    (next: (args: unknown) => Promise<{ response: { statusCode?: number; body?: unknown } }>, context: { commandName?: string }) =>
    async (args: unknown) => {
      const result = await next(args);
      const { statusCode, body } = result.response;
      if (context.commandName === 'DescribeTaskDefinitionCommand' && statusCode === 200 && body instanceof Uint8Array) {
        const problem = findNullInTaskDefinition(decoder.decode(body));
        if (problem !== undefined) throw new MalformedAnswerError(`DescribeTaskDefinition answered ${problem}`);
      }
      return result;
    };
  client.middlewareStack.addRelativeTo(middleware, { relation: 'after', toMiddleware: 'deserializerMiddleware', name: 'ecsDiscovererRawAnswerChecks' });
}
