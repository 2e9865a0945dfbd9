import { isThrottlingError } from '@smithy/core/retry';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { toAbortError } from '../abort.js';
import { callSignalOf, callTurnOf } from '../callOptions.js';
import { Pacer, type Bucket } from './pacer.js';
import type { ClientWithMiddleware } from './clientMiddleware.js';

/**
 * AWS request-rate buckets (per account and region) of the actions we call, as AWS documents
 * them for ECS ("Request throttling for the Amazon ECS API") and EC2. Actions in one bucket
 * share its tokens.
 */
export const BUCKETS = {
  ecsTasks: { burst: 100, perSecond: 20, actions: ['ListTasks', 'DescribeTasks'] },
  ecsTaskDefinitions: { burst: 50, perSecond: 20, actions: ['DescribeTaskDefinition'] },
  ecsClusters: { burst: 50, perSecond: 20, actions: ['ListClusters', 'DescribeClusters'] },
  ecsContainerInstances: { burst: 100, perSecond: 20, actions: ['DescribeContainerInstances'] },
  ec2Describe: { burst: 100, perSecond: 20, actions: ['DescribeInstances'] },
  // SSM publishes no figure for this action; a modest estimate, since ECS Anywhere fleets are small.
  ssmInstances: { burst: 20, perSecond: 10, actions: ['DescribeInstanceInformation'] },
} as const satisfies Record<string, Bucket & { actions: readonly string[] }>;

/**
 * `ok`, `throttled` or `error`: the outcome label of an AWS request. Throttling is what the SDK's
 * own retry strategy calls throttling, so that `outcome="throttled"` agrees with what it retried.
 */
export function toOutcome(error: unknown): 'ok' | 'throttled' | 'error' {
  if (error === undefined) return 'ok';
  return typeof error === 'object' && error !== null && isThrottlingError(error as Parameters<typeof isThrottlingError>[0]) ? 'throttled' : 'error';
}

/** The attempt number the SDK's retry strategy put on the request (`amz-sdk-request: attempt=2; max=5`). */
export function attemptOf(request: unknown): number {
  const header = (request as { headers?: Record<string, string> } | undefined)?.headers?.['amz-sdk-request'];
  const match = header === undefined ? null : /attempt=(\d+)/.exec(header);
  return match ? Number(match[1]) : 1;
}

export interface Instrumentation {
  /** Adds pacing and accounting to every request of `client`, retries included. */
  attach(client: ClientWithMiddleware): void;
  /** AWS requests made so far, retries included. */
  readonly requests: number;
  /** Of those, the ones AWS throttled. */
  readonly throttled: number;
  /**
   * Resolves once no request is in flight (at once when none is). A one-round run waits for it
   * before it exits: a request aborted as its cluster failed ends a moment later, and its debug
   * line would otherwise be lost with the process.
   */
  settled(): Promise<void>;
}

/**
 * One instrumentation per region: each AWS request (every attempt of the SDK's retry strategy)
 * waits for its bucket's pacer, and is counted and timed by action and outcome.
 */
export function createInstrumentation(metrics: Metrics, signal?: AbortSignal, logger?: Logger): Instrumentation {
  const pacerByAction = new Map<string, Pacer>();
  for (const { actions, ...bucket } of Object.values(BUCKETS)) {
    const pacer = new Pacer({ bucket, ...(signal && { signal }) });
    for (const action of actions) pacerByAction.set(action, pacer);
  }
  let requests = 0;
  let throttled = 0;
  let inFlight = 0;
  const whenSettled: (() => void)[] = [];

  const middleware =
    (next: (args: { request: unknown; input?: unknown }) => Promise<unknown>, context: { commandName?: string }) =>
    (args: { request: unknown; input?: unknown }) => {
      // An attempt the SDK makes after its caller gave up (aborted while it waited to retry) is no
      // request: it is not counted, takes no token and sends nothing.
      const callSignal = callSignalOf(args.input);
      if (callSignal?.aborted) return Promise.reject(toAbortError(callSignal));
      if (signal?.aborted) return Promise.reject(toAbortError(signal));
      const action = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      if (attemptOf(args.request) > 1) metrics.apiRetries.inc({ action });
      const pacer = pacerByAction.get(action);
      const attempt = attemptOf(args.request);
      const send = async () => {
        // Nor once the process stops, or a one-round run's round is over (checked above, and
        // again after any wait): a call shared by clusters that all failed outlives them, and
        // would otherwise retry as the process exits.
        if (signal?.aborted) throw toAbortError(signal);
        requests += 1;
        inFlight += 1;
        const stopTimer = metrics.apiCallDuration.startTimer({ action });
        let outcome: 'ok' | 'throttled' | 'error' = 'ok';
        try {
          return await next(args);
        } catch (error) {
          outcome = toOutcome(error);
          if (outcome === 'throttled') {
            throttled += 1;
            pacer?.slowDown();
          }
          throw error;
        } finally {
          metrics.apiCalls.inc({ action, outcome });
          const seconds = stopTimer();
          logger?.debug('aws call', { action, outcome, attempt, duration_ms: Math.round(seconds * 1000) });
          inFlight -= 1;
          if (inFlight === 0) for (const resolve of whenSettled.splice(0)) resolve();
        }
      };
      return pacer ? pacer.run(send, callTurnOf(args.input)) : send();
    };

  return {
    attach(client) {
      // The SDK's logger middleware copies every answer for its (no-op) logger: megabytes a
      // round on a large fleet, for nothing. We count and log calls ourselves.
      client.middlewareStack.remove('loggerMiddleware');
      // Attaching twice (a plugin applied again) must not count each call twice, nor throw.
      client.middlewareStack.remove('ecsDiscovererInstrumentation');
      // After the retry middleware: each attempt is paced and counted, not only the first.
      client.middlewareStack.addRelativeTo(middleware, {
        relation: 'after',
        toMiddleware: 'retryMiddleware',
        name: 'ecsDiscovererInstrumentation',
      });
    },
    get requests() {
      return requests;
    },
    get throttled() {
      return throttled;
    },
    settled() {
      return inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => whenSettled.push(resolve));
    },
  };
}
