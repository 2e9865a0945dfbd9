import { setMaxListeners } from 'node:events';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createClients, resolveRegion } from './aws/clients.js';
import { EcsReader } from './aws/ecsReader.js';
import { createInstrumentation } from './aws/instrumentation.js';
import { version } from './commandLine.js';
import { settingError, type Config } from './config.js';
import type { ClusterSelection } from './discovery/clusters.js';
import type { ResolveOptions } from './discovery/resolveTargets.js';
import { Discoverer } from './discoverer.js';
import { describeError } from './errors.js';
import { close, createHttpServer, listen } from './http/server.js';
import { Status } from './http/status.js';
import { createLogger, type Logger } from './log.js';
import { Loop } from './loop.js';
import { createMetrics, type Metrics } from './metrics.js';
import { checkExitCode, renderCheckReport, toCheckReport } from './checkReport.js';
import { FileSdWriter } from './output/fileSdWriter.js';

/** How long stop() may take before the process exits regardless. */
const STOP_GRACE_MS = 4000;

export type RunMode =
  /** Rounds forever, with the files and the HTTP server. */
  | { kind: 'serve' }
  /** One round, the files, exit: 0 when it succeeded. */
  | { kind: 'once' }
  /** One round, a report on stdout, no files. */
  | { kind: 'check'; json: boolean; failIfEmpty: boolean };

export interface RunOptions {
  config: Config;
  mode: RunMode;
  /** Aborting it stops the process (cli.ts wires SIGTERM and SIGINT to it). */
  signal?: AbortSignal;
  logger?: Logger;
  /** Where `check` prints its report. @default process.stdout */
  print?: (text: string) => void;
}

export function toResolveOptions(config: Config): ResolveOptions {
  const { cluster, taskVersion, taskId, containerId, instanceId } = config.labels;
  return {
    markerName: config.marker.name,
    markerSource: config.marker.source,
    labelPrefix: config.labels.prefix,
    defaultMetricsPath: config.metricsPath,
    labelNames: { cluster, taskVersion, taskId, containerId, instanceId },
  };
}

export function toClusterSelection(config: Config): ClusterSelection {
  return {
    names: config.clusters.names,
    ...(config.clusters.include !== '' && { include: new RegExp(config.clusters.include) }),
    ...(config.clusters.exclude !== '' && { exclude: new RegExp(config.clusters.exclude) }),
  };
}

/**
 * `mkdir -p`. Not `mkdir(..., { recursive: true })`: on Node 20 that spins forever on paths
 * such as /proc/x, where mkdir answers ENOENT although the parent exists.
 */
async function makeDirectory(directory: string): Promise<void> {
  try {
    await mkdir(directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && (await stat(directory)).isDirectory()) return;
    const parent = dirname(directory);
    const parentExists = await stat(parent).then(() => true, () => false);
    if (code !== 'ENOENT' || parent === directory || parentExists) throw error;
    await makeDirectory(parent);
    await mkdir(directory);
  }
}

/** Creates the output directory and proves that it can be written; ConfigError otherwise. */
async function prepareOutputDirectory(directory: string): Promise<void> {
  const probe = join(directory, `.write-test-${process.pid}`);
  try {
    await makeDirectory(directory);
    await writeFile(probe, '');
    await rm(probe);
  } catch (error) {
    throw settingError('outputDir', `"${directory}" is not a writable directory: ${describeError(error)}`);
  }
}

/** One ECS/EC2 client pair, instrumented and paced, per region. */
async function createReaders(config: Config, metrics: Metrics, signal: AbortSignal) {
  const regions = config.aws.regions.length > 0 ? config.aws.regions : [undefined];
  const instrumentations = regions.map(() => createInstrumentation(metrics, signal));
  const readers = await Promise.all(
    regions.map(async (region, index) => {
      const { ecs, ec2 } = createClients({
        region,
        maxAttempts: config.aws.maxAttempts,
        retryMode: config.aws.retryMode,
        requestTimeoutMs: config.aws.requestTimeout * 1000,
      });
      const instrumentation = instrumentations[index];
      instrumentation?.attach(ecs);
      instrumentation?.attach(ec2);
      let resolvedRegion: string;
      try {
        resolvedRegion = await resolveRegion(ecs);
      } catch (error) {
        throw settingError('aws.regions', describeError(error));
      }
      return new EcsReader({ ecs, ec2, region: resolvedRegion, metrics, includeTags: config.labels.taskTags });
    }),
  );
  const countRequests = () => instrumentations.reduce((sum, instrumentation) => sum + instrumentation.requests, 0);
  return { readers, countRequests };
}

/** The composition root: builds every collaborator from the config and runs. Returns the exit code. */
export async function run({ config, mode, signal, logger: givenLogger, print }: RunOptions): Promise<number> {
  // check prints its own report of what the discoverer would log as warnings.
  const level = mode.kind === 'check' ? 'error' : config.log.level;
  const logger = givenLogger ?? createLogger({ level, format: config.log.format });
  const directory = resolve(config.outputDir);
  if (mode.kind !== 'check') await prepareOutputDirectory(directory);

  const stopping = new AbortController();
  // Pacers, rounds and every AWS request listen to these signals.
  setMaxListeners(0, stopping.signal);
  signal?.addEventListener('abort', () => stopping.abort(signal.reason), { once: true });
  const metrics = createMetrics({ withProcessMetrics: mode.kind === 'serve' });
  const { readers, countRequests } = await createReaders(config, metrics, stopping.signal);

  const writer = new FileSdWriter({
    directory,
    fileNames: config.files,
    onWrite: (outcome) => metrics.fileWrites.inc({ outcome }),
  });
  const status = new Status({ unreadyAfterFailedRounds: config.http.unreadyAfterFailedRounds, version: version() });
  const discoverer = new Discoverer({
    readers,
    resolveOptions: toResolveOptions(config),
    clusterSelection: toClusterSelection(config),
    publish: async (snapshot) => {
      if (mode.kind === 'check') return;
      // HTTP SD first: it keeps serving fresh targets even when the files cannot be written.
      status.publish(snapshot);
      await writer.write(snapshot.groups);
    },
    countRequests,
    logger,
    metrics,
  });

  if (Number(process.versions.node.split('.')[0]) < 22) {
    logger.warn('Node.js 20 works, but AWS SDK versions released after January 2027 need Node.js 22 or later');
  }
  logger.info('starting', {
    regions: readers.map((reader) => reader.region).join(','),
    output_dir: mode.kind === 'check' ? undefined : directory,
    interval_s: mode.kind === 'serve' ? config.interval : undefined,
  });

  if (mode.kind !== 'serve') {
    const deadline = AbortSignal.any([stopping.signal, AbortSignal.timeout(config.roundTimeout * 1000)]);
    setMaxListeners(0, deadline);
    const report = await discoverer.runRound(deadline);
    if (mode.kind === 'once') return report.outcome === 'ok' ? 0 : 1;
    const check = toCheckReport(discoverer.clusters, report);
    (print ?? ((text: string) => process.stdout.write(text)))(mode.json ? `${JSON.stringify(check, null, 2)}\n` : renderCheckReport(check));
    return checkExitCode(check, mode.failIfEmpty);
  }

  const server = config.http.port === 0 ? undefined : createHttpServer({ status, registry: metrics.registry, logger });
  if (server) {
    try {
      const address = await listen(server, config.http.host, config.http.port);
      logger.info('listening', { address: `${address.address}:${address.port}` });
    } catch (error) {
      throw settingError('http.port', `cannot listen on ${config.http.host}:${config.http.port}: ${describeError(error)}`);
    }
  }

  const loop = new Loop({
    intervalMs: config.interval * 1000,
    roundTimeoutMs: config.roundTimeout * 1000,
    runRound: async (roundSignal) => status.recordRound(await discoverer.runRound(roundSignal)),
    logger,
  });
  loop.start();
  await new Promise<void>((resolveStop) => {
    if (stopping.signal.aborted) resolveStop();
    stopping.signal.addEventListener('abort', () => resolveStop(), { once: true });
  });
  logger.info('stopping');
  const gave = await Promise.race([
    loop.stop().then(() => true),
    new Promise<boolean>((resolveTimeout) => setTimeout(() => resolveTimeout(false), STOP_GRACE_MS).unref()),
  ]);
  if (!gave) logger.warn('the running round did not end in time; exiting anyway');
  if (server) await close(server);
  logger.info('stopped');
  return 0;
}
