import { setMaxListeners } from 'node:events';
import { resolve } from 'node:path';
import { createClients, createSsmClient } from './aws/clients.js';
import { EcsReader } from './aws/ecsReader.js';
import { createInstrumentation } from './aws/instrumentation.js';
import { checkExitCode, renderCheckReport, toCheckReport } from './checkReport.js';
import { version, type RunMode } from './commandLine.js';
import { settingError, type Config } from './config.js';
import type { ClusterSelection } from './discovery/clusters.js';
import type { ResolveOptions } from './discovery/resolveTargets.js';
import { Discoverer, type DiscovererOptions } from './discoverer.js';
import { EXIT } from './exitCodes.js';
import { close, createHttpServer, listen } from './http/server.js';
import { Status } from './http/status.js';
import { createLogger, type Logger } from './log.js';
import { Loop } from './loop.js';
import { createMetrics, type Metrics } from './metrics.js';
import { FileSdWriter } from './output/fileSdWriter.js';
import { prepareOutputDirectory } from './output/outputDirectory.js';
import type { RoundResult } from './round.js';

/** How long stop() may take before the process exits regardless. */
const STOP_GRACE_MS = 4000;

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
    markerValue: config.marker.value === '' ? undefined : config.marker.value,
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

/** One ECS/EC2 client pair, instrumented and paced, per region. */
async function createReaders(config: Config, metrics: Metrics, signal: AbortSignal) {
  const regions = config.aws.regions.length > 0 ? config.aws.regions : [undefined];
  const instrumentations = regions.map(() => createInstrumentation(metrics, signal));
  const readers = await Promise.all(
    regions.map(async (region, index) => {
      const settings = {
        region,
        maxAttempts: config.aws.maxAttempts,
        retryMode: config.aws.retryMode,
        requestTimeoutMs: config.aws.requestTimeout * 1000,
      };
      const { ecs, ec2 } = createClients(settings);
      const instrumentation = instrumentations[index];
      instrumentation?.attach(ecs);
      instrumentation?.attach(ec2);
      const ssm = async () => {
        const client = await createSsmClient({ ...settings, region: await ecs.config.region() });
        instrumentation?.attach(client);
        return client;
      };
      let resolvedRegion: string;
      try {
        resolvedRegion = await ecs.config.region();
      } catch (error) {
        const problem = region === undefined ? 'no AWS region: set AWS_REGION (or a profile region), or --regions' : `region "${region}" cannot be used`;
        throw settingError('aws.regions', problem, error);
      }
      return new EcsReader({
        ecs,
        ec2,
        ssm,
        region: resolvedRegion,
        metrics,
        includeTags: config.labels.taskTags,
        taskRefreshMs: config.taskRefresh * 1000,
        intervalMs: config.interval * 1000,
      });
    }),
  );
  const countRequests = () => instrumentations.reduce((sum, instrumentation) => sum + instrumentation.requests, 0);
  return { readers, countRequests };
}

/** What every mode shares: logger, metrics, readers, the discoverer and the loop that runs its rounds. */
async function compose(
  { config, mode, signal, logger: givenLogger }: RunOptions,
  metrics: Metrics,
  publish?: DiscovererOptions['publish'],
  afterRound: (result: RoundResult) => void = () => {},
) {
  // check prints its own report of what the discoverer would log as warnings.
  const logger = givenLogger ?? createLogger({ level: mode.kind === 'check' ? 'error' : config.log.level, format: config.log.format });
  const stopping = new AbortController();
  // Pacers, rounds and every AWS request listen to these signals.
  setMaxListeners(0, stopping.signal);
  signal?.addEventListener('abort', () => stopping.abort(signal.reason), { once: true });
  const { readers, countRequests } = await createReaders(config, metrics, stopping.signal);
  const discoverer = new Discoverer({
    readers,
    resolveOptions: toResolveOptions(config),
    clusterSelection: toClusterSelection(config),
    ...(publish && { publish }),
    clusterTimeoutMs: config.aws.clusterTimeout * 1000,
    countRequests,
    logger,
    metrics,
  });
  const loop = new Loop<RoundResult>({
    intervalMs: config.interval * 1000,
    roundTimeoutMs: config.roundTimeout * 1000,
    runRound: async (roundSignal) => {
      const result = await discoverer.runRound(roundSignal);
      afterRound(result);
      return result;
    },
    logger,
  });
  stopping.signal.addEventListener('abort', () => void loop.stop(), { once: true });

  if (Number(process.versions.node.split('.')[0]) < 22) {
    logger.warn('Node.js 20 works, but AWS SDK versions released after January 2027 need Node.js 22 or later');
  }
  logger.info('starting', {
    regions: readers.map((reader) => reader.region).join(','),
    output_dir: mode.kind === 'check' ? undefined : resolve(config.outputDir),
    interval_s: mode.kind === 'serve' ? config.interval : undefined,
  });
  return { logger, stopping: stopping.signal, loop };
}

/** The file writer, on an output directory proven writable (ConfigError otherwise). */
async function createWriter(config: Config, metrics: Metrics): Promise<FileSdWriter> {
  const directory = resolve(config.outputDir);
  try {
    await prepareOutputDirectory(directory);
  } catch (error) {
    throw settingError('outputDir', `"${directory}" is not a writable directory`, error);
  }
  return new FileSdWriter({ directory, fileNames: config.files, onWrite: (outcome) => metrics.fileWrites.inc({ outcome }) });
}

/** Rounds forever, with the files and the HTTP server, until the signal. */
async function serve(options: RunOptions): Promise<number> {
  const { config } = options;
  const metrics = createMetrics({ withProcessMetrics: true });
  const writer = await createWriter(config, metrics);
  const status = new Status({ unreadyAfterFailedRounds: config.http.unreadyAfterFailedRounds, version: version() });
  const { logger, stopping, loop } = await compose(
    options,
    metrics,
    async (snapshot) => {
      // HTTP SD first: it keeps serving fresh targets even when the files cannot be written.
      status.publish(snapshot);
      await writer.write(snapshot.groups);
    },
    ({ report }) => status.recordRound(report),
  );

  const server = config.http.port === 0 ? undefined : createHttpServer({ status, registry: metrics.registry, logger });
  if (server) {
    try {
      const address = await listen(server, config.http.host, config.http.port);
      logger.info('listening', { address: `${address.address}:${address.port}` });
    } catch (error) {
      throw settingError('http.port', `cannot listen on ${config.http.host}:${config.http.port}`, error);
    }
  }

  loop.start();
  await new Promise<void>((resolveStop) => {
    if (stopping.aborted) resolveStop();
    stopping.addEventListener('abort', () => resolveStop(), { once: true });
  });
  logger.info('stopping');
  const gave = await Promise.race([
    loop.stop().then(() => true),
    new Promise<boolean>((resolveTimeout) => setTimeout(() => resolveTimeout(false), STOP_GRACE_MS).unref()),
  ]);
  if (!gave) logger.warn('the running round did not end in time; exiting anyway');
  if (server) await close(server);
  logger.info('stopped');
  return EXIT.ok;
}

/** One round, the files: 0 when it succeeded. */
async function once(options: RunOptions): Promise<number> {
  const metrics = createMetrics();
  const writer = await createWriter(options.config, metrics);
  const { loop } = await compose(options, metrics, (snapshot) => writer.write(snapshot.groups));
  const { report } = await loop.runOnce();
  return report.outcome === 'ok' ? EXIT.ok : EXIT.failed;
}

/** One round, no files: the report on stdout, and an exit code for CI. */
async function check(options: RunOptions & { mode: { kind: 'check' } }): Promise<number> {
  const { loop } = await compose(options, createMetrics());
  const { report, snapshot } = await loop.runOnce();
  const result = toCheckReport(snapshot.clusters, report);
  const print = options.print ?? ((text: string) => process.stdout.write(text));
  print(options.mode.json ? `${JSON.stringify(result, null, 2)}\n` : renderCheckReport(result));
  return checkExitCode(result, options.mode.failIfEmpty);
}

/** The composition root: builds every collaborator from the config and runs the mode. Returns the exit code. */
export async function run(options: RunOptions): Promise<number> {
  const { mode } = options;
  switch (mode.kind) {
    case 'serve':
      return serve(options);
    case 'once':
      return once(options);
    case 'check':
      return check({ ...options, mode });
  }
}
