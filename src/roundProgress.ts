import type { Logger } from './log.js';

/** How a first round is going: for its progress log line and for the status page. */
export interface ProgressFigures {
  /** Unix ms when the round started. */
  readonly startedAt: number;
  /** Clusters selected for reading, and those whose reading has ended (well or not). */
  readonly clustersListed: number;
  readonly clustersDone: number;
  readonly tasksDescribed: number;
  readonly taskDefinitionsDescribed: number;
  /** AWS requests of the round so far, and of those the ones AWS throttled. */
  readonly apiCalls: number;
  readonly throttled: number;
}

export interface ProgressReporting {
  /** The figures as they are now. */
  read: () => ProgressFigures;
  logger: Logger;
  /** How often a progress line is logged. */
  logEveryMs: number;
  /** Gets the figures at once and then every `pushEveryMs` (the status page shows them). */
  onProgress?: ((progress: ProgressFigures) => void) | undefined;
  /** @default 1000 */
  pushEveryMs?: number;
}

/**
 * Reports how a first round goes: a log line every `logEveryMs` (none for a round shorter than
 * that), and the figures to `onProgress` more often, so that a page reloaded every few seconds
 * moves. Returns the function that stops it; its timers never keep the process alive.
 */
export function reportProgress({ read, logger, logEveryMs, onProgress, pushEveryMs = 1000 }: ProgressReporting): () => void {
  const log = setInterval(() => {
    const progress = read();
    logger.info('first round in progress', {
      clusters_listed: progress.clustersListed,
      clusters_done: progress.clustersDone,
      tasks_described: progress.tasksDescribed,
      task_definitions_described: progress.taskDefinitionsDescribed,
      api_calls: progress.apiCalls,
      throttled: progress.throttled,
    });
    onProgress?.(progress);
  }, logEveryMs);
  log.unref();
  if (onProgress === undefined) return () => clearInterval(log);
  onProgress(read());
  const push = setInterval(() => onProgress(read()), pushEveryMs);
  push.unref();
  return () => {
    clearInterval(log);
    clearInterval(push);
  };
}
