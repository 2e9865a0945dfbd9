import type { Registry } from 'prom-client';
import type { LabelMatcher } from '../discovery/matchers.js';
import type { StaticDirectory } from '../output/staticDirectory.js';
import { settingError, type Config } from '../config.js';
import type { Logger } from '../log.js';
import { describeListenAddress, formatAddress, parseListenAddress, type ListenAddress } from './listenAddresses.js';
import { toWebPaths } from './routing.js';
import { applyTls, close, createHttpServer, listen, requestsInFlight, type AnyServer, type HttpLimits } from './server.js';
import type { Status } from './status.js';
import type { WebSecurity } from './webSecurity.js';

export interface HttpServiceOptions {
  config: Config;
  status: Status;
  registry: Registry;
  logger: Logger;
  /** Named selections, served at /targets/<name>. */
  selections?: ReadonlyMap<string, readonly LabelMatcher[]>;
  /** The static targets directory behind the targets API, when one is set. */
  staticDirectory?: StaticDirectory | undefined;
}

/** The running HTTP listeners. */
export interface HttpService {
  /** Where each listener listens (`127.0.0.1:8080`, `[::1]:8080`), and whether with TLS. */
  listeners: readonly { address: string; tls: boolean }[];
  /** Stops listening; requests in flight get up to graceMs to finish (server.ts, close). */
  close(graceMs: number): Promise<void>;
}

/** The listeners the settings ask for: http.listenAddresses, or http.host and http.port (none when the port is 0). */
export function toListenAddresses(config: Config): ListenAddress[] {
  const { listenAddresses, host, port } = config.http;
  if (listenAddresses.length === 0) return port === 0 ? [] : [{ host, port }];
  return listenAddresses.map((text) => {
    const parsed = parseListenAddress(text);
    if ('error' in parsed) throw settingError('http.listenAddresses', parsed.error);
    return parsed;
  });
}

export function toHttpLimits(config: Config): HttpLimits {
  const { headersTimeout, requestTimeout, keepAliveTimeout, writeTimeout, maxConnections } = config.http;
  return {
    headersTimeoutMs: headersTimeout * 1000,
    requestTimeoutMs: requestTimeout * 1000,
    keepAliveTimeoutMs: keepAliveTimeout * 1000,
    writeTimeoutMs: writeTimeout * 1000,
    maxConnections,
  };
}

/**
 * The web configuration file, loaded (only when one is given: YAML and bcrypt are not loaded
 * otherwise); a ConfigError naming http.webConfigFile when it cannot be used. check loads it too,
 * so that a broken one fails the check rather than the deployment.
 */
export async function loadSecurity(config: Config): Promise<WebSecurity | undefined> {
  const file = config.http.webConfigFile;
  if (file === '') return undefined;
  const { loadWebSecurity, WebConfigError } = await import('./webSecurity.js');
  try {
    return await loadWebSecurity(file);
  } catch (error) {
    if (error instanceof WebConfigError) throw settingError('http.webConfigFile', error.message);
    throw error;
  }
}

/** The setting to blame when an address cannot be listened on. */
function blame(config: Config, error: unknown): string {
  if (config.http.listenAddresses.length > 0) return 'http.listenAddresses';
  // An address this host does not have, or a name that does not resolve, is the host's fault; the rest (in use, denied) the port's.
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return ['EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME'].includes(code) ? 'http.host' : 'http.port';
}

/**
 * Listens on every address the settings name, with the web configuration (TLS, basic auth,
 * headers) in force, re-read when its files change. Undefined when HTTP is off. An address that
 * cannot be used, or a web configuration that cannot, is a ConfigError naming the setting.
 */
export async function startHttpService({ config, status, registry, logger, selections, staticDirectory }: HttpServiceOptions): Promise<HttpService | undefined> {
  const addresses = toListenAddresses(config);
  if (addresses.length === 0) return undefined;
  let security = await loadSecurity(config);
  const { prefix, linkBase } = toWebPaths(config.http.routePrefix, config.http.externalUrl);
  const servers: AnyServer[] = [];
  const listeners: { address: string; tls: boolean }[] = [];
  for (const address of addresses) {
    const server = createHttpServer({
      status,
      registry,
      logger,
      routePrefix: prefix,
      linkBase,
      security: () => security,
      openHealthEndpoints: config.http.openHealthEndpoints,
      limits: toHttpLimits(config),
      ...(selections && { selections }),
      // Writes need a user of the web configuration: without one, the API only reads.
      targetsApi: { directory: staticDirectory },
      ...(security?.tls && { tls: security.tls }),
    });
    try {
      const bound = await listen(server, address.host, address.port);
      servers.push(server);
      listeners.push({ address: formatAddress(bound), tls: security?.tls !== undefined });
    } catch (error) {
      await Promise.all(servers.map((server) => close(server)));
      throw settingError(blame(config, error), `cannot listen on ${describeListenAddress(address)}`, error);
    }
  }

  let stopWatching = () => {};
  if (security !== undefined) {
    const [{ WebConfigWatcher }, { loadWebSecurity }] = await Promise.all([import('./webConfigWatcher.js'), import('./webSecurity.js')]);
    const watcher = new WebConfigWatcher({
      current: security,
      load: loadWebSecurity,
      logger,
      apply: (next) => {
        // A listener is created for HTTP or for HTTPS; which one it is cannot change while it listens.
        if ((next.tls === undefined) !== (security?.tls === undefined)) return 'TLS cannot be turned on or off while running: restart to apply it';
        if (next.tls !== undefined) for (const server of servers) applyTls(server, next.tls);
        security = next;
        return undefined;
      },
    });
    await watcher.start();
    stopWatching = () => watcher.stop();
  }

  return {
    listeners,
    async close(graceMs) {
      stopWatching();
      const waiting = servers.reduce((sum, server) => sum + requestsInFlight(server), 0);
      if (waiting > 0) logger.info('waiting for HTTP requests in flight', { requests: waiting, grace_seconds: graceMs / 1000 });
      const finished = await Promise.all(servers.map((server) => close(server, graceMs)));
      if (finished.includes(false)) logger.warn('HTTP requests still in flight were cut', { grace_seconds: graceMs / 1000 });
    },
  };
}
