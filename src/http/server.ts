import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { LabelMatcher } from '../discovery/matchers.js';
import { MAX_SHARDS } from '../discovery/shards.js';
import { parseTargetFilter } from './httpSd.js';
import type { Status } from './status.js';
import { TARGETS_API_PATH, handleTargetsApi, type TargetsApiOptions } from './targetsApi.js';

export interface HttpServerOptions {
  status: Status;
  registry: Registry;
  logger: Logger;
  /** Named selections, served at /targets/<name>. @default none */
  selections?: ReadonlyMap<string, readonly LabelMatcher[]>;
  /** The static targets directory and who may write to it, for /api/v1/static/<name>. @default no targets API */
  targetsApi?: Omit<TargetsApiOptions, 'logger'>;
}

/** A path segment decoded; undefined when its %-escapes are malformed. */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** `/targets/<name>`: the name of a selection. */
const SELECTION_PATH = /^\/targets\/([^/]+)$/;

function send(response: ServerResponse, head: boolean, status: number, contentType: string, body: string): void {
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  response.end(head ? undefined : body);
}

const TEXT = 'text/plain; charset=utf-8';

/**
 * HTTP SD on /targets, self-metrics on /metrics, health on /-/healthy and /-/ready, and a
 * status page on /. Every answer comes from the last snapshot: no AWS work per request.
 */
export function createHttpServer({ status, registry, logger, selections = new Map(), targetsApi }: HttpServerOptions): Server {
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const head = request.method === 'HEAD';
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith(TARGETS_API_PATH)) {
      const name = decodeSegment(url.pathname.slice(TARGETS_API_PATH.length));
      if (name === undefined) return send(response, head, 400, TEXT, 'malformed %-escape in the path\n');
      return handleTargetsApi(request, response, name, {
        directory: targetsApi?.directory,
        authenticatedUser: targetsApi?.authenticatedUser,
        logger,
      });
    }
    if (request.method !== 'GET' && !head) {
      response.setHeader('allow', 'GET, HEAD');
      send(response, false, 405, TEXT, `method ${request.method ?? ''} not allowed; use GET\n`);
      return;
    }
    const selection = SELECTION_PATH.exec(url.pathname);
    switch (selection === null ? url.pathname : '/targets') {
      case '/targets': {
        const parsed = parseTargetFilter(url.searchParams);
        if ('error' in parsed) return send(response, head, 400, TEXT, `${parsed.error}\n`);
        if (selection !== null) {
          const name = decodeSegment(selection[1] as string);
          if (name === undefined) return send(response, head, 400, TEXT, 'malformed %-escape in the path\n');
          const matchers = selections.get(name);
          if (matchers === undefined) return send(response, head, 404, TEXT, `no selection named "${name}"\n`);
          parsed.filter.matchers = [...matchers, ...(parsed.filter.matchers ?? [])];
        }
        const body = status.targetsBody(parsed.filter);
        // 503 before the first round: Prometheus keeps the targets it had.
        if (body === undefined) return send(response, head, 503, TEXT, 'no round has published targets yet\n');
        return send(response, head, 200, 'application/json', body);
      }
      case '/metrics':
        return send(response, head, 200, registry.contentType, await registry.metrics());
      case '/-/healthy':
        return send(response, head, 200, TEXT, 'healthy\n');
      case '/-/ready': {
        const { ready, reason } = status.readiness;
        return send(response, head, ready ? 200 : 503, TEXT, `${reason}\n`);
      }
      case '/': {
        const shards = url.searchParams.get('shards');
        if (shards === null || shards === '') return send(response, head, 200, 'text/html; charset=utf-8', status.page);
        if (!/^\d{1,4}$/.test(shards) || Number(shards) < 1 || Number(shards) > MAX_SHARDS) {
          return send(response, head, 400, TEXT, `shards "${shards}" is not a number of shards from 1 to ${MAX_SHARDS}\n`);
        }
        return send(response, head, 200, 'text/html; charset=utf-8', status.pageWithShards(Number(shards)));
      }
      default:
        return send(response, head, 404, TEXT, `not found: ${url.pathname}\n`);
    }
  };

  return createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error('HTTP request failed', { path: request.url, error: describeError(error) });
      if (!response.headersSent) send(response, false, 500, TEXT, 'internal error\n');
      else response.destroy();
    });
  });
}

/** Listens on host:port; rejects with the system's reason (EADDRINUSE, EACCES, ...). */
export function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Stops accepting connections and closes idle and open ones. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
