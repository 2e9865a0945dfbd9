import { LRUCache } from 'lru-cache';
import { INTERVALS } from '../discovery/endpoints.js';
import { accountOfArn } from '../discovery/model.js';
import { countByShard } from '../discovery/shards.js';
import { toGroupsByInterval, type TargetGroup } from '../discovery/targetGroups.js';
import { placeOf } from '../readerOutcomes.js';
import type { ClusterState, RoundReport, Snapshot, UnreadCluster } from '../round.js';
import type { ProgressFigures } from '../roundProgress.js';
import { filterKey, toHttpSdJson, type TargetFilter } from './httpSd.js';
import { SharedAnswer } from './sharedAnswer.js';
import { SERVED_AT, renderStatusPage, type EventsView, type Readiness, type StatusView } from './statusPage.js';

export interface StatusOptions {
  unreadyAfterFailedRounds: number;
  version: string;
  /** Unix ms when the process started. @default now */
  startedAt?: number;
  /** The settings in force, secrets left out (shownSettings.ts). @default none */
  settings?: readonly (readonly [key: string, value: string])[];
  /** The interval setting: the page reloads itself as often, within 5 to 30 s. @default 15 */
  intervalSeconds?: number;
  /** What the status page shows of event-driven discovery, when it is on. @default nothing */
  events?: () => EventsView | undefined;
  now?: () => number;
  /** The status page's own path, ending in "/": its links are made under it (a route prefix, a proxy's path). @default "/" */
  linkBase?: string;
}

/** The answer about a cluster that does not exist: one for all such names, so that they cost no memory. */
const NO_TARGETS = new SharedAnswer('[]', 'application/json');

/** Whether a cluster is one the filter names: by name, account and region, each when given. */
const isSelected = (state: ClusterState, { cluster, account, region }: TargetFilter): boolean =>
  (cluster === undefined || state.cluster.name === cluster) &&
  (account === undefined || accountOfArn(state.cluster.arn) === account) &&
  (region === undefined || state.region === region);

/**
 * What the HTTP endpoints serve: the last published snapshot and the recent rounds. Answers are
 * computed once per snapshot and filter, not per request.
 */
/**
 * Answers for shards and label matchers, whose values clients choose: only the most recently
 * asked are kept, so that no stream of distinct queries can grow memory.
 */
const CHOSEN_FILTER_ANSWERS = 64;

export class Status {
  readonly #unreadyAfterFailedRounds: number;
  readonly #version: string;
  readonly #startedAt: number;
  #settings: readonly (readonly [string, string])[];
  readonly #refreshSeconds: number;
  readonly #now: () => number;
  #snapshot: Snapshot | undefined;
  readonly #linkBase: string;
  #bodies = new Map<string, SharedAnswer>();
  #chosenBodies = new LRUCache<string, SharedAnswer>({ max: CHOSEN_FILTER_ANSWERS });
  /** Pages with targets per shard, by shard count: clients choose the count, so only a few are kept. */
  #shardPages = new LRUCache<number, string>({ max: 8 });
  #staticFiles: StatusView['staticFiles'];
  #page: string | undefined;
  #rounds: RoundReport[] = [];
  #progress: ProgressFigures | undefined;
  readonly #events: (() => EventsView | undefined) | undefined;

  constructor({ unreadyAfterFailedRounds, version, startedAt, settings = [], intervalSeconds = 15, events, now = Date.now, linkBase = '/' }: StatusOptions) {
    this.#linkBase = linkBase;
    this.#unreadyAfterFailedRounds = unreadyAfterFailedRounds;
    this.#version = version;
    this.#now = now;
    this.#startedAt = startedAt ?? now();
    this.#settings = settings;
    this.#refreshSeconds = Math.min(Math.max(intervalSeconds, 5), 30);
    this.#events = events;
  }

  /** What the events show changed (a batch, the queue answering or not): the page is made again. */
  eventsChanged(): void {
    this.#invalidate();
  }

  /** The settings in force, after SIGHUP has changed some. */
  showSettings(settings: readonly (readonly [string, string])[]): void {
    this.#settings = settings;
    this.#invalidate();
  }

  /** How the first round goes, until it ends (recordRound). */
  showProgress(progress: ProgressFigures): void {
    this.#progress = progress;
    this.#invalidate();
  }

  publish(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    this.#bodies = new Map();
    this.#chosenBodies.clear();
    this.#invalidate();
  }

  /** The static target files as last read (StaticDirectory), for the page. */
  showStatic(files: NonNullable<StatusView['staticFiles']>): void {
    this.#staticFiles = files;
    this.#invalidate();
  }

  /** The status page with the targets per shard of `count`: rendered once per snapshot and count, the last few kept. */
  pageWithShards(count: number): string {
    let page = this.#shardPages.get(count);
    if (page === undefined) {
      const addresses = INTERVALS.flatMap((interval) => this.#snapshot?.groups[interval] ?? []).flatMap((group) => (JSON.parse(group.json) as TargetGroup).targets);
      page = this.#render({ count, targets: countByShard(addresses, count) });
      this.#shardPages.set(count, page);
    }
    return page.replace(SERVED_AT, String(this.#now()));
  }

  recordRound(report: RoundReport): void {
    this.#rounds = [...this.#rounds, report].slice(-this.#unreadyAfterFailedRounds);
    this.#progress = undefined;
    this.#invalidate();
  }

  /** Pages are rendered once per change of what they show. */
  #invalidate(): void {
    this.#page = undefined;
    this.#shardPages.clear();
  }

  /** The status page, rendered on the first request after a change of what it shows; only the time it is served is put in. */
  get page(): string {
    this.#page ??= this.#render(undefined);
    return this.#page.replace(SERVED_AT, String(this.#now()));
  }

  #render(shards: StatusView['shards']): string {
    return renderStatusPage({
      version: this.#version,
      readiness: this.readiness,
      lastRound: this.lastRound,
      snapshot: this.#snapshot,
      startedAt: this.#startedAt,
      settings: this.#settings,
      progress: this.#progress,
      refreshSeconds: this.#refreshSeconds,
      ...(this.#staticFiles !== undefined && { staticFiles: this.#staticFiles }),
      ...(shards !== undefined && { shards }),
      base: this.#linkBase,
      events: this.#events?.(),
    });
  }

  get snapshot(): Snapshot | undefined {
    return this.#snapshot;
  }

  get lastRound(): RoundReport | undefined {
    return this.#rounds.at(-1);
  }

  /** The HTTP SD answer for a filter, as text; undefined before the first published round. */
  targetsBody(filter: TargetFilter): string | undefined {
    return this.targetsAnswer(filter)?.text;
  }

  /**
   * The HTTP SD answer for a filter, built once per snapshot and filter and shared by every
   * request that asks for it (gzip and ETag included); undefined before the first published round.
   */
  targetsAnswer(filter: TargetFilter): SharedAnswer | undefined {
    const snapshot = this.#snapshot;
    if (snapshot === undefined) return undefined;
    const byCluster = filter.cluster !== undefined || filter.account !== undefined || filter.region !== undefined;
    // A cluster name repeats across accounts and regions: the groups are those of the clusters selected.
    const selected = byCluster ? snapshot.clusters.filter((state) => isSelected(state, filter)) : undefined;
    // Only answers about clusters that exist are kept: any other name a client sends is `[]`, and costs no memory.
    if (selected?.length === 0) return NO_TARGETS;
    const key = filterKey(filter);
    // Shards and matchers are chosen by clients: their answers go to a bounded cache of their own.
    const cache = filter.shard === undefined && filter.matchers === undefined ? this.#bodies : this.#chosenBodies;
    let answer = cache.get(key);
    if (answer === undefined) {
      const groups = selected === undefined ? snapshot.groups : toGroupsByInterval(selected.flatMap((state) => state.targets));
      const body = toHttpSdJson(groups, {
        ...(filter.interval !== undefined && { interval: filter.interval }),
        ...(filter.shard !== undefined && { shard: filter.shard }),
        ...(filter.matchers !== undefined && { matchers: filter.matchers }),
      });
      answer = new SharedAnswer(body, 'application/json');
      cache.set(key, answer);
    }
    return answer;
  }

  /** HTTP SD answers held for the current snapshot (one per filter asked for): bounded by its clusters and the intervals. */
  get cachedBodies(): number {
    return this.#bodies.size;
  }

  /**
   * Why HTTP SD has no answer yet (503). While a first round runs, the files may hold the
   * clusters read so far: HTTP SD waits for its end.
   */
  get noTargetsYet(): string {
    return this.#rounds.length === 0 ? 'the first round has not ended yet' : 'no round has published targets yet';
  }

  get readiness(): Readiness {
    if (this.#snapshot === undefined) return { ready: false, reason: this.noTargetsYet };
    const failed = this.#rounds.filter((round) => round.outcome === 'failed');
    if (this.#rounds.length >= this.#unreadyAfterFailedRounds && failed.length === this.#rounds.length) {
      const last = this.#rounds.at(-1)?.failures[0] ?? 'unknown failure';
      return {
        ready: false,
        reason: `the last ${this.#rounds.length} rounds failed (serving the last good targets): ${last}`,
      };
    }
    // A cluster never read is waited for, a few rounds; then it is published without targets, and said so.
    const unread = this.lastRound?.unreadClusters ?? [];
    const describe = (cluster: UnreadCluster) => `${cluster.name} (${placeOf(cluster.region, cluster.account, true)}): ${cluster.reason}`;
    const waiting = unread.filter((cluster) => cluster.rounds < this.#unreadyAfterFailedRounds);
    if (waiting.length > 0) {
      return { ready: false, reason: `waiting for clusters never read yet: ${waiting.map(describe).join('; ')}` };
    }
    if (unread.length > 0) {
      return { ready: true, reason: `ready; published without targets, never read: ${unread.map(describe).join('; ')}` };
    }
    return { ready: true, reason: 'ready' };
  }
}
