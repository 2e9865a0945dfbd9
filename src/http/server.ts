import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Registry } from 'prom-client';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { LabelMatcher } from '../discovery/matchers.js';
import { MAX_SHARDS } from '../discovery/shards.js';
import { parseTargetFilter } from './httpSd.js';
import { routeRequest } from './routing.js';
import { SharedAnswer, sendSharedAnswer } from './sharedAnswer.js';
import type { Status } from './status.js';
import { handleTargetsApi, type TargetsApiOptions } from './targetsApi.js';
import type { TlsSettings, WebSecurity } from './webSecurity.js';

/** Bounds on what one client can hold (README, "HTTP endpoints"). */
export interface HttpLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** How long an answer may go without being read before its connection is dropped. */
  writeTimeoutMs: number;
  maxConnections: number;
}

export interface HttpServerOptions {
  status: Status;
  registry: Registry;
  logger: Logger;
  /** Every endpoint is under it: "/" or "/a/b". @default "/" */
  routePrefix?: string;
  /** The status page's path, ending in "/": where the prefix without its slash redirects. @default routePrefix + "/" */
  linkBase?: string;
  /** The web configuration in force (authentication, headers, client certificate policy), asked per request: it changes when its file does. */
  security?: () => WebSecurity | undefined;
  /** /-/healthy and /-/ready answer without authentication. */
  openHealthEndpoints?: boolean;
  /** @default Node's defaults, no write timeout, no connection cap */
  limits?: HttpLimits;
  /** HTTPS with these settings; plain HTTP without. */
  tls?: TlsSettings;
  /** Named selections, served at /targets/<name>. @default none */
  selections?: ReadonlyMap<string, readonly LabelMatcher[]>;
  /**
   * The static targets directory, for /api/v1/static/<name>; writes need a user, by default the
   * one the request authenticated as with the web configuration's basic auth. @default no targets API
   */
  targetsApi?: Pick<TargetsApiOptions, 'directory'> & Partial<Pick<TargetsApiOptions, 'authenticatedUser'>>;
}

export type AnyServer = Server | HttpsServer;

function send(response: ServerResponse, head: boolean, status: number, contentType: string, body: string): void {
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  response.end(head ? undefined : body);
}

const TEXT = 'text/plain; charset=utf-8';
const OPEN_WITH_HEALTH = new Set(['/-/healthy', '/-/ready']);

/** How often Node looks for requests past headersTimeout and requestTimeout (its default, 30 s, would let them run that much longer). */
const CONNECTIONS_CHECK_MS = 1000;

/**
 * HTTP SD on /targets, self-metrics on /metrics, health on /-/healthy and /-/ready, and a
 * status page on /, all under the route prefix. Every answer comes from the last snapshot: no
 * AWS work per request. With a web configuration: its headers on every answer, and basic auth.
 */
export function createHttpServer(options: HttpServerOptions): AnyServer {
  const { status, registry, logger, security = () => undefined, limits, selections = new Map<string, readonly LabelMatcher[]>() } = options;
  /** The user each request authenticated as: the targets API writes only for one. */
  const authenticated = new WeakMap<IncomingMessage, string>();
  const prefix = options.routePrefix ?? '/';
  const linkBase = options.linkBase ?? (prefix === '/' ? '/' : `${prefix}/`);

  // The status page changes once per round at most: its answer (ETag, gzip) is made again only when its text does.
  let page: { text: string; answer: SharedAnswer } | undefined;
  const pageAnswer = (text: string) => {
    if (page?.text !== text) page = { text, answer: new SharedAnswer(text, 'text/html; charset=utf-8') };
    return page.answer;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const web = security();
    for (const [name, value] of Object.entries(web?.headers ?? {})) response.setHeader(name, value);
    // Until the answer is read: a client that stops reading is dropped after writeTimeout (Node then sets the keep-alive timeout).
    if (limits) request.socket.setTimeout(limits.writeTimeoutMs);
    const head = request.method === 'HEAD';
    const routed = routeRequest(request.url ?? '/', prefix, linkBase);
    if (routed.kind === 'bad-request') return send(response, false, 400, TEXT, `${routed.reason}\n`);

    const open = options.openHealthEndpoints === true && routed.kind === 'endpoint' && OPEN_WITH_HEALTH.has(routed.endpoint);
    if (web?.auth && !open) {
      const outcome = await web.auth.check(request.headers.authorization);
      if (!outcome.ok) {
        // A client's first request often has no credentials: only wrong ones are worth a line. Never the password.
        if (outcome.reason !== 'no credentials') {
          logger.warn('HTTP request refused: wrong credentials', { reason: outcome.reason, user: outcome.user, client: request.socket.remoteAddress, path: request.url });
        }
        response.setHeader('www-authenticate', 'Basic realm="prometheus-ecs-discoverer", charset="UTF-8"');
        return send(response, head, 401, TEXT, 'unauthorized\n');
      }
      authenticated.set(request, outcome.user);
    }
    if (routed.kind === 'targets-api') {
      const authenticatedUser = options.targetsApi?.authenticatedUser ?? ((asked: IncomingMessage) => authenticated.get(asked));
      return handleTargetsApi(request, response, routed.name, { directory: options.targetsApi?.directory, authenticatedUser, logger });
    }
    if (request.method !== 'GET' && !head) {
      response.setHeader('allow', 'GET, HEAD');
      send(response, false, 405, TEXT, `method ${request.method ?? ''} not allowed; use GET\n`);
      return;
    }
    if (routed.kind === 'redirect') {
      response.setHeader('location', routed.location);
      return send(response, head, 302, TEXT, `see ${routed.location}\n`);
    }
    if (routed.kind === 'not-found') return send(response, head, 404, TEXT, `not found: ${routed.path}\n`);
    switch (routed.endpoint) {
      case '/targets': {
        const parsed = parseTargetFilter(routed.query);
        if ('error' in parsed) return send(response, head, 400, TEXT, `${parsed.error}\n`);
        if (routed.selection !== undefined) {
          const matchers = selections.get(routed.selection);
          if (matchers === undefined) return send(response, head, 404, TEXT, `no selection named "${routed.selection}"\n`);
          parsed.filter.matchers = [...matchers, ...(parsed.filter.matchers ?? [])];
        }
        const answer = status.targetsAnswer(parsed.filter);
        // 503 before the first round: Prometheus keeps the targets it had.
        if (answer === undefined) return send(response, head, 503, TEXT, `${status.noTargetsYet}\n`);
        return sendSharedAnswer(request, response, answer, head);
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
        const shards = routed.query.get('shards');
        if (shards === null || shards === '') return sendSharedAnswer(request, response, pageAnswer(status.page), head);
        if (!/^\d{1,4}$/.test(shards) || Number(shards) < 1 || Number(shards) > MAX_SHARDS) {
          return send(response, head, 400, TEXT, `shards "${shards}" is not a number of shards from 1 to ${MAX_SHARDS}\n`);
        }
        return sendSharedAnswer(request, response, pageAnswer(status.pageWithShards(Number(shards))), head);
      }
    }
  };

  const connections: Connections = { answers: new Set(), sockets: new Set() };
  // The answers not done on each connection. An answer queued behind another (pipelining) gets
  // no 'close' of its own when the client leaves: its connection's one listener forgets it.
  const answersOn = new WeakMap<Socket, Set<ServerResponse>>();
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    const { socket } = request;
    let pending = answersOn.get(socket);
    if (pending === undefined) {
      const onSocket = new Set<ServerResponse>();
      answersOn.set(socket, onSocket);
      socket.once('close', () => {
        for (const answer of onSocket) connections.answers.delete(answer);
        onSocket.clear();
      });
      pending = onSocket;
    }
    pending.add(response);
    connections.answers.add(response);
    response.once('close', () => {
      pending.delete(response);
      connections.answers.delete(response);
      // Closing: the answer is done, and its keep-alive connection would otherwise stay open until its timeout.
      if (!server.listening) setImmediate(() => server.closeIdleConnections());
    });
    handle(request, response).catch((error: unknown) => {
      logger.error('HTTP request failed', { path: request.url, error: describeError(error) });
      if (!response.headersSent) send(response, false, 500, TEXT, 'internal error\n');
      else response.destroy();
    });
  };
  const serverOptions = limits && {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
  };
  let server: AnyServer;
  if (options.tls) {
    const { context, clientCerts } = options.tls;
    server = createHttpsServer(
      {
        ...serverOptions,
        ...context,
        requestCert: clientCerts.requestCert,
        rejectUnauthorized: clientCerts.rejectUnauthorized,
        ...(limits && { handshakeTimeout: limits.headersTimeoutMs }),
      },
      listener,
    );
    server.on('secureConnection', (socket: TLSSocket) => {
      // The policies Node cannot enforce in the handshake: the connection closes before any request is read.
      const policy = security()?.tls?.clientCerts ?? clientCerts;
      const certificate = socket.getPeerCertificate();
      const hasCertificate = certificate !== null && Object.keys(certificate).length > 0;
      if ((policy.closeWithoutCert && !hasCertificate) || (policy.closeUnverified && hasCertificate && !socket.authorized)) socket.destroy();
    });
  } else {
    server = serverOptions ? createServer(serverOptions, listener) : createServer(listener);
  }
  if (limits) {
    server.keepAliveTimeout = limits.keepAliveTimeoutMs;
    server.maxConnections = limits.maxConnections;
  }
  // Every socket, a TLS one before its handshake too, which closeAllConnections does not reach.
  server.on('connection', (socket: Socket) => {
    connections.sockets.add(socket);
    socket.once('close', () => connections.sockets.delete(socket));
  });
  connectionsOf.set(server, connections);
  return server;
}

/** A server's answers not yet done, and its open sockets: what close() waits for and, at the end, cuts. */
interface Connections {
  answers: Set<ServerResponse>;
  sockets: Set<Socket>;
}
const connectionsOf = new WeakMap<AnyServer, Connections>();

/** How many answers the server has not finished: requests read, answers being made or sent. */
export function requestsInFlight(server: AnyServer): number {
  return connectionsOf.get(server)?.answers.size ?? 0;
}

/** Puts new TLS settings in force for the connections to come; open ones keep theirs. */
export function applyTls(server: AnyServer, tls: TlsSettings): void {
  const https = server as HttpsServer;
  https.setSecureContext(tls.context);
  // Node's TLS server reads these two per connection; setSecureContext does not take them.
  const policy = https as unknown as { requestCert: boolean; rejectUnauthorized: boolean };
  policy.requestCert = tls.clientCerts.requestCert;
  policy.rejectUnauthorized = tls.clientCerts.rejectUnauthorized;
}

/** Listens on host:port; rejects with the system's reason (EADDRINUSE, EACCES, ...). */
export function listen(server: AnyServer, host: string | undefined, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Stops accepting connections and closes the idle ones. Requests in flight (a password being
 * checked, static targets being written, an answer being read) get up to graceMs to finish, each
 * connection closed when its answer is done; then every socket left is closed. Resolves true
 * when no request had to be cut.
 */
export function close(server: AnyServer, graceMs = 0): Promise<boolean> {
  const connections = connectionsOf.get(server);
  // Answers not begun end their connection when sent: a client may never send the rest of a body answered early.
  for (const answer of connections?.answers ?? []) if (!answer.headersSent) answer.shouldKeepAlive = false;
  return new Promise((resolve) => {
    let cut = false;
    const cutOff = setTimeout(() => {
      cut = requestsInFlight(server) > 0;
      server.closeAllConnections();
      for (const socket of connections?.sockets ?? []) socket.destroy();
    }, graceMs);
    server.close(() => {
      clearTimeout(cutOff);
      resolve(!cut);
    });
    server.closeIdleConnections();
  });
}
