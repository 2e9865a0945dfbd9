import { setMaxListeners, type EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { isAbort, untilAborted } from './abort.js';
import { checkExitCode, renderCheckReport, toCheckReport } from './checkReport.js';
import { version, type RunMode } from './commandLine.js';
import { reloadSettings, settingError, type Config } from './config.js';
import { compileNamePattern, type ClusterSelection } from './discovery/clusters.js';
import type { ResolveOptions } from './discovery/resolveTargets.js';
import { Discoverer, type DiscovererOptions } from './discoverer.js';
import { describeError } from './errors.js';
import { EXIT } from './exitCodes.js';
import { loadSecurity, startHttpService } from './http/httpService.js';
import { toWebPaths } from './http/routing.js';
import { EventListening } from './events.js';
import { Status } from './http/status.js';
import { createLogger, type AdjustableLogger, type Logger } from './log.js';
import { Loop } from './loop.js';
import { createMetrics, type Metrics } from './metrics.js';
import { findLeftovers } from './leftovers.js';
import { FileSdWriter } from './output/fileSdWriter.js';
import { prepareOutputDirectory, removeIfEmpty } from './output/outputDirectory.js';
import { OutputLock, type LockAttempt } from './output/outputLock.js';
import { removeTemporaryFiles } from './output/writeAtomically.js';
import { readPublishedGroups } from './output/publishedGroups.js';
import { StaticDirectory, type StaticTargets } from './output/staticDirectory.js';
import { parseMatchers, type LabelMatcher } from './discovery/matchers.js';
import { Publisher } from './publisher.js';
import { createReaders } from './readers.js';
import type { ClusterState, RoundResult } from './round.js';
import { toShownSettings } from './shownSettings.js';

/** How long the running round, and then the HTTP requests in flight, may take to end at a stop. */
const STOP_GRACE_MS = 4000;

export interface RunOptions {
  config: Config;
  mode: RunMode;
  /** Aborting it stops the process (cliMain.ts wires SIGTERM and SIGINT to it). */
  signal?: AbortSignal;
  logger?: Logger;
  /** Where `check` prints its report. @default process.stdout */
  print?: (text: string) => void;
  /** Emits `reload` (SIGHUP) and `ignored` with a signal's name (SIGUSR1, SIGUSR2). */
  signals?: EventEmitter;
  /** Loads the settings again as at start (defaults, --config file, environment, flags): for SIGHUP. */
  reloadConfig?: () => Config;
  /** The environment, for the variables of other tools that are not read. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/**
 * Re-reads the settings on SIGHUP and applies those that can change while running
 * (reloadSettings); says which others differ from those at start and need a restart. A config
 * that does not load keeps the current one, with the reason.
 */
function applyReloads(options: RunOptions, logger: Logger, discoverer: Discoverer, onSettings?: (shown: [string, string][]) => void): void {
  let inForce = options.config;
  options.signals?.on('reload', () => {
    let next: Config;
    try {
      next = (options.reloadConfig ?? (() => inForce))();
    } catch (error) {
      logger.error('SIGHUP: the settings did not load; keeping the current ones', { error: describeError(error) });
      return;
    }
    const reload = reloadSettings(options.config, inForce, next);
    if (reload.applied.length > 0) {
      inForce = reload.inForce;
      discoverer.reconfigure({ resolveOptions: toResolveOptions(inForce), clusterSelection: toClusterSelection(inForce) });
      (logger as Partial<AdjustableLogger>).setLevel?.(inForce.log.level);
      onSettings?.(toShownSettings(inForce));
    }
    logger.info('SIGHUP: settings read again', {
      applied: reload.applied.length > 0 ? reload.applied.join(',') : 'none',
      ...(reload.needRestart.length > 0 && { need_restart: reload.needRestart.join(',') }),
    });
  });
}

export function toResolveOptions(config: Config): ResolveOptions {
  const { cluster, taskVersion, taskId, containerId, instanceId } = config.labels;
  return {
    markerName: config.marker.name,
    markerValue: config.marker.value === '' ? undefined : config.marker.value,
    markerSource: config.marker.source,
    labelPrefix: config.labels.prefix,
    defaultMetricsPath: config.metricsPath,
    defaultInterval: config.defaultInterval,
    noLabelsValue: config.labels.noLabelsValue === '' ? undefined : config.labels.noLabelsValue,
    customLabelsDockerLabel: config.labels.customLabelsDockerLabel,
    fromDockerLabels: config.labels.fromDockerLabels,
    fargateIds: config.labels.fargateIds,
    healthFilter: config.healthFilter,
    labelNames: { cluster, taskVersion, taskId, containerId, instanceId },
  };
}

export function toClusterSelection(config: Config): ClusterSelection {
  return {
    names: config.clusters.names,
    ...(config.clusters.include !== '' && { include: compileNamePattern(config.clusters.include) }),
    ...(config.clusters.exclude !== '' && { exclude: compileNamePattern(config.clusters.exclude) }),
  };
}

/** What every mode shares: logger, metrics, readers, the discoverer and the loop that runs its rounds. */
async function compose(
  options: RunOptions,
  logger: Logger,
  metrics: Metrics,
  publish?: DiscovererOptions['publish'],
  afterRound: (result: RoundResult) => void | Promise<void> = () => {},
  earlierStates: readonly ClusterState[] = [],
  {
    onProgress,
    onSettings,
    events,
  }: {
    onProgress?: DiscovererOptions['onProgress'];
    onSettings?: (shown: [string, string][]) => void;
    /** Event-driven discovery (serve alone): the listening, and what to tell after each batch. */
    events?: { listening: EventListening; afterBatch: () => void } | undefined;
  } = {},
) {
  const { config, mode, signal } = options;
  const stopping = new AbortController();
  // No AWS request is sent once this is aborted (requests in flight end as they would): at
  // shutdown, and once the one round of --once and check is over.
  const noMoreCalls = new AbortController();
  // Pacers, rounds and every AWS request listen to these signals.
  setMaxListeners(0, stopping.signal);
  setMaxListeners(0, noMoreCalls.signal);
  signal?.addEventListener('abort', () => stopping.abort(signal.reason), { once: true });
  stopping.signal.addEventListener('abort', () => noMoreCalls.abort(stopping.signal.reason), { once: true });
  const { readers, countRequests, countThrottled, callsSettled } = await createReaders(config, metrics, noMoreCalls.signal, logger, { ...(events && { events: events.listening }) });
  const discoverer = new Discoverer({
    readers,
    resolveOptions: toResolveOptions(config),
    clusterSelection: toClusterSelection(config),
    ...(publish && { publish }),
    clusterTimeoutMs: config.aws.clusterTimeout * 1000,
    countRequests,
    countThrottled,
    logger,
    metrics,
    earlierStates,
    unreadClusterRounds: config.http.unreadyAfterFailedRounds,
    progressEveryMs: config.log.progressEvery * 1000,
    // A failed --once exits 1: at --log-level error, this line is what says why.
    ...(mode.kind === 'once' && { failedRoundLevel: 'error' as const }),
    ...(onProgress && { onProgress }),
  });
  // The alert rules count staleness in full rounds: with events, they follow the queue.
  const showRoundInterval = () => {
    if (events !== undefined) metrics.roundInterval.set(events.listening.roundIntervalMs() / 1000);
  };
  const loop: Loop<RoundResult> = new Loop<RoundResult>({
    intervalMs: events === undefined ? config.interval * 1000 : () => events.listening.roundIntervalMs(),
    roundTimeoutMs: config.roundTimeout * 1000,
    runRound: async (roundSignal) => {
      const result = await discoverer.runRound(roundSignal);
      events?.listening.noteRound(result.report);
      showRoundInterval();
      await afterRound(result);
      events?.listening.start({
        readers,
        discoverer,
        onListeningChange: () => {
          showRoundInterval();
          loop.reschedule();
        },
        onBatch: events.afterBatch,
      });
      return result;
    },
    logger,
  });
  stopping.signal.addEventListener('abort', () => void loop.stop(), { once: true });

  const leftovers = findLeftovers(options.env ?? process.env);
  if (leftovers.length > 0) {
    const described = leftovers.map(({ variable, setting }) => `${variable} (${setting === undefined ? 'no equivalent' : `now ${setting}`})`);
    logger.warn(`prometheus-ecs-discoverer settings in the environment are not read: ${described.join(', ')}; see the README, "Migrating"`);
  }
  if (Number(process.versions.node.split('.')[0]) < 22) {
    logger.warn('Node.js 20 works, but AWS SDK versions released after January 2027 need Node.js 22 or later');
  }
  logger.info('starting', {
    regions: readers.map((reader) => reader.region).join(','),
    output_dir: mode.kind === 'check' ? undefined : resolve(config.outputDir),
    interval_s: mode.kind === 'serve' ? config.interval : undefined,
    events_queue: events === undefined ? undefined : config.events.queueUrl,
  });
  options.signals?.on('ignored', (name: string) => logger.info(`${name} ignored`));
  if (mode.kind === 'serve') applyReloads(options, logger, discoverer, onSettings);
  else options.signals?.on('reload', () => logger.info('SIGHUP ignored: this run is one round'));
  /**
   * The one round of --once and check. Once it is over, no request is sent any more (a retry of
   * a call shared by clusters that all failed would be, as the process exits); those in flight
   * (aborted with a failed cluster, or such a shared call) end a moment later: it waits for
   * them, so that their debug lines are logged before the exit. Not after SIGTERM or SIGINT: a
   * hung request would hold the process until its aws.requestTimeout.
   */
  const runOnce = async () => {
    const result = await loop.runOnce();
    noMoreCalls.abort(new Error('the round is over'));
    await untilAborted(callsSettled(), stopping.signal).catch((error: unknown) => {
      if (!isAbort(error)) throw error;
    });
    return result;
  };
  return { stopping: stopping.signal, loop, runOnce };
}

/**
 * A lock file of another host is stale once it has missed about three refreshes. It is refreshed
 * after every round, and a round may take up to roundTimeout: the wait covers that too.
 */
const toLockStaleAfterMs = (config: Config) => {
  // With events, full rounds come every resyncInterval while the queue answers.
  const spacing = config.events.queueUrl === '' ? config.interval : Math.max(config.interval, config.events.resyncInterval);
  return Math.max(3 * spacing, spacing + config.roundTimeout, 60) * 1000;
};

interface Output {
  writer: FileSdWriter;
  lock: OutputLock;
  /** What an earlier run published there, per cluster: each failing cluster keeps it until read afresh. */
  earlierStates: ClusterState[];
}

/** What an earlier run left in the output directory, as the last good state of its clusters. */
async function readEarlierStates(directory: string, config: Config, logger: Logger): Promise<ClusterState[]> {
  const earlier = await readPublishedGroups(directory, config.files);
  for (const problem of earlier.problems) logger.warn(`earlier targets not read back: ${problem}`);
  return earlier.clusters.map(
    (cluster): ClusterState => ({
      region: cluster.region,
      cluster: { name: cluster.name, arn: cluster.arn },
      tasks: 0,
      pendingTasks: 0,
      targets: Object.freeze(cluster.targets),
      skips: [],
      warnings: [],
      lastSuccessAt: undefined,
      error: undefined,
      restored: true,
    }),
  );
}

/**
 * The output directory, proven writable and locked (ConfigError otherwise), rid of the
 * temporary files a killed process left, with its writer and what an earlier run published
 * there. Runs `use` with it, then releases the lock.
 */
async function withOutput<T>(config: Config, logger: Logger, metrics: Metrics, use: (output: Output) => Promise<T>): Promise<T> {
  const directory = resolve(config.outputDir);
  let made: boolean;
  try {
    ({ made } = await prepareOutputDirectory(directory));
  } catch (error) {
    throw settingError('outputDir', `"${directory}" is not a writable directory`, error);
  }
  try {
    return await withLockedOutput(directory, config, logger, metrics, use);
  } catch (error) {
    // A start that failed after it (a web config, a listen address) leaves no empty directory of its own behind.
    if (made) await removeIfEmpty(directory);
    throw error;
  }
}

async function withLockedOutput<T>(directory: string, config: Config, logger: Logger, metrics: Metrics, use: (output: Output) => Promise<T>): Promise<T> {
  let attempt: LockAttempt;
  try {
    attempt = await OutputLock.acquire({ directory, staleAfterMs: toLockStaleAfterMs(config), logger, onRecovery: (action) => metrics.outputRecoveries.inc({ action }) });
  } catch (error) {
    throw settingError('outputDir', `"${directory}" cannot be locked`, error);
  }
  if ('refused' in attempt) throw settingError('outputDir', attempt.refused);
  const { lock } = attempt;
  try {
    const leftovers = await removeTemporaryFiles(directory);
    if (leftovers.length > 0) logger.warn('removed temporary files that an earlier process left', { output_dir: directory, files: leftovers.join(',') });
    metrics.outputRecoveries.inc({ action: 'leftover_removed' }, leftovers.length);
    const writer = new FileSdWriter({
      directory,
      fileNames: config.files,
      ...(config.allTargetsFile !== '' && { allTargetsFile: config.allTargetsFile }),
      logger,
      onWrite: (outcome) => metrics.fileWrites.inc({ outcome }),
    });
    return await use({ writer, lock, earlierStates: await readEarlierStates(directory, config, logger) });
  } finally {
    await lock.release();
  }
}

/** The static targets directory of `staticDir`, not read yet; undefined when none is set. A directory that cannot be read is a setting error. */
async function openStaticDirectory(config: Config, logger: Logger, onChange?: (targets: StaticTargets) => void): Promise<StaticDirectory | undefined> {
  if (config.staticDir === '') return undefined;
  const directory = resolve(config.staticDir);
  try {
    const leftovers = await removeTemporaryFiles(directory);
    if (leftovers.length > 0) logger.warn('removed temporary files that an earlier process left', { static_dir: directory, files: leftovers.join(',') });
  } catch (error) {
    throw settingError('staticDir', `"${directory}" is not a readable directory`, error);
  }
  return new StaticDirectory({ directory, logger, ...(onChange && { onChange }) });
}

/** The named selections of the settings, parsed (config validation has checked them). */
function toSelections(config: Config): Map<string, readonly LabelMatcher[]> {
  const selections = new Map<string, readonly LabelMatcher[]>();
  for (const [name, selector] of Object.entries(config.selections)) {
    const parsed = parseMatchers(selector);
    if ('error' in parsed) throw settingError('selections', parsed.error);
    selections.set(name, parsed.matchers);
  }
  return selections;
}

/** Rounds forever, with the files and the HTTP server, until the signal. */
async function serve(options: RunOptions, logger: Logger): Promise<number> {
  const { config } = options;
  const metrics = createMetrics({ withProcessMetrics: true, version: version(), intervalSeconds: config.interval });
  return withOutput(config, logger, metrics, ({ writer, lock, earlierStates }) => serveWith(options, logger, metrics, writer, lock, earlierStates));
}

async function serveWith(options: RunOptions, logger: Logger, metrics: Metrics, writer: FileSdWriter, lock: OutputLock, earlierStates: ClusterState[]): Promise<number> {
  const { config } = options;
  const { linkBase } = toWebPaths(config.http.routePrefix, config.http.externalUrl);
  // Events (events.queueUrl) are for serve alone: --once and check are one round.
  const events = config.events.queueUrl === '' ? undefined : new EventListening({ config, logger, metrics, signal: options.signal ?? new AbortController().signal });
  const status = new Status({
    unreadyAfterFailedRounds: config.http.unreadyAfterFailedRounds,
    version: version(),
    settings: toShownSettings(config),
    intervalSeconds: config.interval,
    linkBase,
    events: () => events?.view(),
  });
  // Rounds, events and the static targets publish: one publication at a time, in the order they were made.
  const publisher = new Publisher({
    publish: async (snapshot) => {
      // HTTP SD first: it keeps serving fresh targets even when the files cannot be written.
      // Not what a first round has read so far: until its end, HTTP SD answers 503.
      if (snapshot.soFar !== true) status.publish(snapshot);
      await writer.write(snapshot.groups);
    },
    staticGroups: () => staticDirectory?.current.groups ?? [],
    logger,
  });
  const staticDirectory = await openStaticDirectory(config, logger, ({ files, groups }) => {
    recordStatic(metrics, staticDirectory);
    status.showStatic(files);
    void publisher.republish().then(() =>
      logger.info('static targets changed', { files: files.length, bad_files: files.filter((file) => file.error !== undefined).length, groups: groups.length }),
    );
  });
  await staticDirectory?.start();
  recordStatic(metrics, staticDirectory);
  if (staticDirectory !== undefined) status.showStatic(staticDirectory.current.files);

  // Listen first: an address or a web config that cannot be used is a setting error, before anything else is started.
  const http = await startHttpService({ config, status, registry: metrics.registry, logger, selections: toSelections(config), staticDirectory });
  const { stopping, loop } = await compose(
    options,
    logger,
    metrics,
    (snapshot) => publisher.publishRound(snapshot),
    async ({ report }) => {
      status.recordRound(report);
      // Every round, published or not: other hosts take a lock that is not refreshed for stale.
      await lock.refresh();
    },
    earlierStates,
    {
      onProgress: (progress) => status.showProgress(progress),
      onSettings: (shown) => status.showSettings(shown),
      events: events && { listening: events, afterBatch: () => status.eventsChanged() },
    },
  );
  for (const { address, tls } of http?.listeners ?? []) logger.info('listening', { address, tls });

  loop.start();
  await new Promise<void>((resolveStop) => {
    if (stopping.aborted) resolveStop();
    stopping.addEventListener('abort', () => resolveStop(), { once: true });
  });
  logger.info('stopping');
  const gave = await Promise.race([
    Promise.all([loop.stop(), events?.stop()]).then(() => true),
    new Promise<boolean>((resolveTimeout) => setTimeout(() => resolveTimeout(false), STOP_GRACE_MS).unref()),
  ]);
  if (!gave) logger.warn('the running round did not end in time; exiting anyway');
  staticDirectory?.stop();
  await http?.close(STOP_GRACE_MS);
  logger.info('stopped');
  return EXIT.ok;
}

/** One round, the files: 0 when it succeeded. */
async function once(options: RunOptions, logger: Logger): Promise<number> {
  const metrics = createMetrics();
  const staticDirectory = await openStaticDirectory(options.config, logger);
  await staticDirectory?.scan();
  return withOutput(options.config, logger, metrics, async ({ writer, earlierStates }) => {
    const publisher = new Publisher({ publish: (snapshot) => writer.write(snapshot.groups), staticGroups: () => staticDirectory?.current.groups ?? [], logger });
    const { runOnce } = await compose(options, logger, metrics, (snapshot) => publisher.publishRound(snapshot), undefined, earlierStates);
    const { report } = await runOnce();
    return report.outcome === 'ok' ? EXIT.ok : EXIT.failed;
  });
}

/** One round, no files: the report on stdout, and an exit code for CI. */
async function check(options: RunOptions & { mode: { kind: 'check' } }, logger: Logger): Promise<number> {
  await loadSecurity(options.config);
  const staticDirectory = await openStaticDirectory(options.config, logger);
  await staticDirectory?.scan();
  const { runOnce } = await compose(options, logger, createMetrics());
  const { report, snapshot } = await runOnce();
  const result = toCheckReport(snapshot.clusters, report, {
    ...(staticDirectory && { staticTargets: { directory: staticDirectory.directory, files: staticDirectory.current.files } }),
    ...(options.mode.shards !== undefined && { shards: options.mode.shards }),
  });
  const print = options.print ?? ((text: string) => process.stdout.write(text));
  print(options.mode.json ? `${JSON.stringify(result, null, 2)}\n` : renderCheckReport(result));
  return checkExitCode(result, options.mode);
}

/** serve, against a fake of ECS started in this process (loaded only here: it is no part of a real run). */
async function demo(options: RunOptions, logger: Logger): Promise<number> {
  const { startDemo } = await import('./demo.js');
  const started = await startDemo(options.config);
  (options.print ?? ((text: string) => process.stdout.write(text)))(`${started.banner}\n`);
  try {
    return await serve({ ...options, config: started.config, mode: { kind: 'serve' } }, logger);
  } finally {
    await started.stop();
  }
}

/** The static targets files, by state, in the metrics. */
function recordStatic(metrics: Metrics, staticDirectory: StaticDirectory | undefined): void {
  if (staticDirectory === undefined) return;
  const { files, groups } = staticDirectory.current;
  metrics.staticFiles.set({ state: 'ok' }, files.filter((file) => file.error === undefined).length);
  metrics.staticFiles.set({ state: 'error' }, files.filter((file) => file.error !== undefined).length);
  metrics.staticGroups.set(groups.length);
}

/** The composition root: builds every collaborator from the config and runs the mode. Returns the exit code. */
export async function run(options: RunOptions): Promise<number> {
  const { mode, config } = options;
  // check prints its own report of what the discoverer would log as warnings; debug, asked for, still shows every AWS request.
  const level = mode.kind === 'check' && config.log.level !== 'debug' ? 'error' : config.log.level;
  const logger = options.logger ?? createLogger({ level, format: config.log.format });
  switch (mode.kind) {
    case 'serve':
      return serve(options, logger);
    case 'once':
      return once(options, logger);
    case 'check':
      return check({ ...options, mode }, logger);
    case 'demo':
      return demo(options, logger);
  }
}
