import type { IncomingMessage, ServerResponse } from 'node:http';
import { isStaticTargetsName, parseStaticGroups } from '../discovery/staticGroups.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { loadYaml } from '../yamlPackage.js';
import type { StaticDirectory } from '../output/staticDirectory.js';

/** The path under which the targets API stores and serves static target groups, by name. */
export const TARGETS_API_PATH = '/api/v1/static/';

/** A body of target groups is kilobytes; this refuses anything absurd before reading it all. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface TargetsApiOptions {
  directory: StaticDirectory | undefined;
  /**
   * The user a request authenticated as; undefined when the server has no authentication
   * configured at all, in which case every write is refused.
   */
  authenticatedUser: ((request: IncomingMessage) => string | undefined) | undefined;
  logger: Logger;
}

function sendJson(response: ServerResponse, status: number, body: unknown, head = false): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  response.end(head ? undefined : text);
}

/** The request body as text, or undefined when it is larger than MAX_BODY_BYTES. */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** YAML when the client says so (`application/yaml`, `text/yaml`, `application/x-yaml`), else JSON. */
const formatOf = (request: IncomingMessage): 'json' | 'yaml' => (/yaml/i.test(request.headers['content-type'] ?? '') ? 'yaml' : 'json');

/**
 * target-eye's API on our server: `GET`, `PUT` (replace) and `DELETE` of `/api/v1/static/<name>`,
 * a list of target groups stored as `<name>.json` in the static targets directory. Writes need a
 * user: they are refused unless the server authenticates its clients, and each is logged with
 * the user's name. Problems are answered with a JSON `message`.
 */
export async function handleTargetsApi(request: IncomingMessage, response: ServerResponse, name: string, { directory, authenticatedUser, logger }: TargetsApiOptions): Promise<void> {
  const method = request.method ?? '';
  if (directory === undefined) return sendJson(response, 404, { message: 'the targets API needs a static targets directory (staticDir)' });
  if (!isStaticTargetsName(name)) {
    return sendJson(response, 400, { message: `name "${name}" is not valid: letters, digits, "-" and "_", starting with a letter or digit` });
  }
  if (method === 'GET' || method === 'HEAD') {
    const groups = await directory.read(name);
    if (groups === undefined) return sendJson(response, 404, { message: `no static targets named "${name}"` }, method === 'HEAD');
    return sendJson(response, 200, groups, method === 'HEAD');
  }
  if (method !== 'PUT' && method !== 'DELETE') {
    response.setHeader('allow', 'GET, HEAD, PUT, DELETE');
    return sendJson(response, 405, { message: `method ${method} not allowed; use GET, PUT or DELETE` });
  }
  const user = authenticatedUser?.(request);
  if (authenticatedUser === undefined || user === undefined) {
    return sendJson(response, 403, { message: 'writes to the targets API need authentication: set basic_auth_users in the web configuration (--web.config.file)' });
  }
  if (method === 'DELETE') {
    const removed = await directory.remove(name);
    if (!removed) return sendJson(response, 404, { message: `no static targets named "${name}"` });
    logger.info('static targets removed', { name, user });
    return sendJson(response, 200, { message: `removed ${name}` });
  }
  const body = await readBody(request);
  if (body === undefined) return sendJson(response, 413, { message: `body larger than ${MAX_BODY_BYTES} bytes` });
  const format = formatOf(request);
  const parsed = parseStaticGroups(body, format, format === 'yaml' ? await loadYaml() : undefined);
  if ('error' in parsed) return sendJson(response, 400, { message: parsed.error });
  try {
    await directory.write(name, parsed.groups);
  } catch (error) {
    logger.error('static targets not stored', { name, user, error: describeError(error) });
    return sendJson(response, 500, { message: `cannot store ${name}: ${describeError(error)}` });
  }
  const targets = parsed.groups.reduce((sum, group) => sum + group.targets.length, 0);
  logger.info('static targets stored', { name, user, groups: parsed.groups.length, targets });
  return sendJson(response, 200, { message: `stored ${name}`, groups: parsed.groups.length, targets });
}
