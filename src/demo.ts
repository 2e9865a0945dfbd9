import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from './config.js';
import { animateDemo, demoFleet } from './fake/demoFleet.js';
import { FakeAws, sdkEnvFor } from './fake/fakeAws.js';
import { parseListenAddress } from './http/listenAddresses.js';
import { toWebPaths } from './http/routing.js';

export interface Demo {
  /** The settings to serve with: the files in a directory of the demo's own, HTTP on loopback unless set. */
  config: Config;
  /** What to open, for the person who started it. */
  banner: string;
  stop(): Promise<void>;
}

/**
 * Starts the in-repo fake of ECS, EC2 and SSM with a small mixed fleet, and points this process's
 * AWS SDK at it: whatever AWS settings the environment had, the demo never reaches AWS.
 */
export async function startDemo(config: Config): Promise<Demo> {
  const fake = new FakeAws(demoFleet());
  const url = await fake.start();
  animateDemo(fake);
  // The SDK's own switches (its Node version notice) stay; credentials, profile and endpoints go.
  for (const name of Object.keys(process.env)) if (name.startsWith('AWS_') && !name.startsWith('AWS_SDK_JS_')) delete process.env[name];
  Object.assign(process.env, sdkEnvFor(url));
  const outputDir = await mkdtemp(join(tmpdir(), 'ecs-discoverer-demo-'));
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
  const clusters = fake.fleet.clusters.length;
  const tasks = fake.fleet.clusters.reduce((sum, cluster) => sum + cluster.tasks.length, 0);
  // The first listener, under the route prefix; https when a web config is given (it may not have TLS: the log says).
  const first = config.http.listenAddresses[0] === undefined ? undefined : parseListenAddress(config.http.listenAddresses[0]);
  const [shownHost, shownPort] = first !== undefined && !('error' in first) ? [first.host ?? '127.0.0.1', first.port] : [host, config.http.port];
  const scheme = config.http.webConfigFile === '' ? 'http' : 'https';
  const base = `${scheme}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${shownPort}${toWebPaths(config.http.routePrefix, config.http.externalUrl).prefix.replace(/\/$/, '')}`;
  const banner = [
    `demo: a fake ECS on this machine (${clusters} clusters, ${tasks} tasks, one more coming and going); no AWS account is used`,
    ...(config.http.port === 0 && config.http.listenAddresses.length === 0
      ? ['  HTTP server   off (http.port 0)']
      : [`  status page   ${base}/`, `  HTTP SD       ${base}/targets`, `  metrics       ${base}/metrics`]),
    `  file_sd files ${outputDir}`,
    'Ctrl-C stops it.',
  ].join('\n');
  return {
    config: { ...config, outputDir, http: { ...config.http, host }, aws: { ...config.aws, regions: [fake.fleet.region] } },
    banner,
    async stop() {
      await fake.stop();
      await rm(outputDir, { recursive: true, force: true });
    },
  };
}
