import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { parseTargetFilter } from './httpSd.js';
import type { Status } from './status.js';

export interface HttpServerOptions {
  status: Status;
  registry: Registry;
  logger: Logger;
}

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
export function createHttpServer({ status, registry, logger }: HttpServerOptions): Server {
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const head = request.method === 'HEAD';
    if (request.method !== 'GET' && !head) {
      response.setHeader('allow', 'GET, HEAD');
      send(response, false, 405, TEXT, `method ${request.method ?? ''} not allowed; use GET\n`);
      return;
    }
    const url = new URL(request.url ?? '/', 'http://localhost');
    switch (url.pathname) {
      case '/targets': {
        const parsed = parseTargetFilter(url.searchParams);
        if ('error' in parsed) return send(response, head, 400, TEXT, `${parsed.error}\n`);
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
      case '/':
        return send(response, head, 200, 'text/html; charset=utf-8', status.page);
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
