import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LOOP_SAMPLE_EVERY_MS } from './loopBlocks.js';

/** Every metric of the discoverer starts with this. */
export const METRIC_PREFIX = 'ecs_discoverer_';

/** prom-client's gauges of its event loop histogram; nodejs_eventloop_lag_seconds, measured at each scrape, stays. */
const DROPPED_LOOP_GAUGES = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'] as const;

/** The discoverer's own instruments, registered on one registry. */
export type Metrics = ReturnType<typeof createMetrics>;

/** Builds the registry and instruments. `withProcessMetrics` adds prom-client's default process metrics. */
export function createMetrics({
  withProcessMetrics = false,
  version = 'unknown',
  intervalSeconds,
}: { withProcessMetrics?: boolean; version?: string; intervalSeconds?: number } = {}) {
  const registry = new Registry();
  if (withProcessMetrics) {
    // prom-client's event loop histogram samples at all times, waking an idle process (some 15 ms
    // of CPU per 15 s at 100 ms), and its gauges read its own period when nothing is late. It cannot
    // be left out of the default metrics: it gets a period of 24 days and its gauges are dropped.
    // The rounds watch the loop themselves (round_event_loop_block_seconds, src/loopBlocks.ts).
    collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX, eventLoopMonitoringPrecision: 2 ** 31 - 1 });
    for (const gauge of DROPPED_LOOP_GAUGES) registry.removeSingleMetric(`${METRIC_PREFIX}nodejs_eventloop_lag_${gauge}_seconds`);
  }
  const registers = [registry];
  const name = (suffix: string) => `${METRIC_PREFIX}${suffix}`;
  const buildInfo = new Gauge({
    name: name('build_info'),
    help: 'Always 1: the version of the discoverer and of Node.js that runs it.',
    labelNames: ['version', 'node_version'] as const,
    registers,
  });
  buildInfo.set({ version, node_version: process.version }, 1);
  // Alert rules measure staleness in intervals (examples/alerts.yml): with events, full rounds come every resync interval.
  const interval = new Gauge({
    name: name('interval_seconds'),
    help: 'Seconds from the start of one full round to the start of the next: events.resyncInterval while the event queue answers and the last round read every cluster, else the interval setting.',
    registers,
  });
  if (intervalSeconds !== undefined) interval.set(intervalSeconds);

  return {
    registry,
    roundInterval: interval,
    apiCalls: new Counter({
      name: name('aws_api_calls_total'),
      help: 'AWS API requests (each attempt) by action and outcome: ok, throttled or error.',
      labelNames: ['action', 'outcome'] as const,
      registers,
    }),
    apiCallDuration: new Histogram({
      name: name('aws_api_call_duration_seconds'),
      help: 'Duration of AWS API requests (each attempt) by action.',
      labelNames: ['action'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    apiRetries: new Counter({
      name: name('aws_api_retries_total'),
      help: 'AWS API requests that were retries of an earlier attempt, by action.',
      labelNames: ['action'] as const,
      registers,
    }),
    cacheHits: new Counter({
      name: name('cache_hits_total'),
      help: 'Look-ups answered from a cache, by cache.',
      labelNames: ['cache'] as const,
      registers,
    }),
    cacheMisses: new Counter({
      name: name('cache_misses_total'),
      help: 'Look-ups that needed an AWS call, by cache.',
      labelNames: ['cache'] as const,
      registers,
    }),
    cacheSize: new Gauge({
      name: name('cache_entries'),
      help: 'Entries held by each cache.',
      labelNames: ['cache'] as const,
      registers,
    }),
    roundLoopBlock: new Gauge({
      name: name('round_event_loop_block_seconds'),
      help: `The longest the event loop was blocked during the last round, to within the ${LOOP_SAMPLE_EVERY_MS} ms it is sampled at while the round runs: how late a paced AWS call or an HTTP answer could have been.`,
      registers,
    }),
    roundDuration: new Histogram({
      name: name('round_duration_seconds'),
      help: 'Duration of discovery rounds.',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    rounds: new Counter({
      name: name('rounds_total'),
      help: 'Discovery rounds by outcome: ok; partial (some clusters kept their last good targets); failed (nothing read afresh, or nothing published).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    lastSuccess: new Gauge({
      name: name('last_success_timestamp_seconds'),
      help: 'Unix time of the end of the last round that read every cluster and published its targets.',
      registers,
    }),
    clusterLastSuccess: new Gauge({
      name: name('cluster_last_success_timestamp_seconds'),
      help: 'Unix time of the last successful listing of each cluster.',
      labelNames: ['account', 'region', 'cluster'] as const,
      registers,
    }),
    accountUp: new Gauge({
      name: name('account_up'),
      help: 'Per account and region: 1 when the last round listed its clusters; 0 when it failed (a role that cannot be assumed, ListClusters failing).',
      labelNames: ['account', 'region'] as const,
      registers,
    }),
    targets: new Gauge({
      name: name('targets'),
      help: 'Targets published, by interval.',
      labelNames: ['interval'] as const,
      registers,
    }),
    clusterTargets: new Gauge({
      name: name('cluster_targets'),
      help: 'Targets published, by cluster and interval.',
      labelNames: ['account', 'region', 'cluster', 'interval'] as const,
      registers,
    }),
    skippedContainers: new Gauge({
      name: name('skipped_containers'),
      help: 'Marked containers that yield no target in the last round, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    clusters: new Gauge({ name: name('clusters'), help: 'Clusters seen in the last round.', registers }),
    unreadClusters: new Gauge({
      name: name('unread_clusters'),
      help: 'Listed clusters never read so far and with no earlier targets in the files: they are published without targets.',
      registers,
    }),
    tasks: new Gauge({ name: name('tasks'), help: 'RUNNING tasks seen in the last round.', registers }),
    staticFiles: new Gauge({
      name: name('static_files'),
      help: 'Files in the static targets directory, by state: ok, or error (skipped; its last good targets are kept).',
      labelNames: ['state'] as const,
      registers,
    }),
    staticGroups: new Gauge({ name: name('static_groups'), help: 'Target groups served from the static targets directory.', registers }),
    markedContainers: new Gauge({
      name: name('marked_containers'),
      help: 'Containers of RUNNING tasks that carry the marker, in the last round: those that yield targets and those skipped.',
      registers,
    }),
    fileWrites: new Counter({
      name: name('file_writes_total'),
      help: 'Target file writes by outcome: written, unchanged (skipped), repaired (rewritten because something else removed, replaced or altered it) or error.',
      labelNames: ['outcome'] as const,
      registers,
    }),
    outputRecoveries: new Counter({
      name: name('output_recoveries_total'),
      help: 'What was set right in the output directory, by action: leftover_removed (a temporary file that a killed process left, removed at start), stale_lock_taken_over, lock_recreated (the lock file had vanished).',
      labelNames: ['action'] as const,
      registers,
    }),
    events: new Counter({
      name: name('events_total'),
      help: 'Messages of the event queue (events.queueUrl) by outcome: applied, stale (a newer state was known), ignored, unreadable (deleted) or failed (left to come again).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    eventsListening: new Gauge({
      name: name('events_listening'),
      help: 'With events.queueUrl: 1 while the event queue answers (full rounds every events.resyncInterval), 0 while it does not (full rounds every interval).',
      registers,
    }),
  };
}
