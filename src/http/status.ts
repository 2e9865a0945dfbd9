import type { RoundReport, Snapshot, UnreadCluster } from '../round.js';
import { toHttpSdJson, type TargetFilter } from './httpSd.js';
import { SharedAnswer } from './sharedAnswer.js';
import { renderStatusPage, type Readiness } from './statusPage.js';

/** The answer about a cluster that does not exist: one for all such names, so that they cost no memory. */
const NO_TARGETS = new SharedAnswer('[]', 'application/json');

/**
 * What the HTTP endpoints serve: the last published snapshot and the recent rounds. Answers are
 * computed once per snapshot and filter, not per request.
 */
export class Status {
  readonly #unreadyAfterFailedRounds: number;
  readonly #version: string;
  readonly #linkBase: string;
  #snapshot: Snapshot | undefined;
  #bodies = new Map<string, SharedAnswer>();
  #page: string | undefined;
  #rounds: RoundReport[] = [];

  /** `linkBase`: the status page's own path, ending in "/" (its links are made under it). @default "/" */
  constructor({ unreadyAfterFailedRounds, version, linkBase = '/' }: { unreadyAfterFailedRounds: number; version: string; linkBase?: string }) {
    this.#unreadyAfterFailedRounds = unreadyAfterFailedRounds;
    this.#version = version;
    this.#linkBase = linkBase;
  }

  publish(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    this.#bodies = new Map();
    this.#page = undefined;
  }

  recordRound(report: RoundReport): void {
    this.#rounds = [...this.#rounds, report].slice(-this.#unreadyAfterFailedRounds);
    this.#page = undefined;
  }

  /** The status page, rendered once per round. */
  get page(): string {
    this.#page ??= renderStatusPage({
      version: this.#version,
      readiness: this.readiness,
      lastRound: this.lastRound,
      snapshot: this.#snapshot,
      base: this.#linkBase,
    });
    return this.#page;
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
   * request that asks for it; undefined before the first published round.
   */
  targetsAnswer(filter: TargetFilter): SharedAnswer | undefined {
    const snapshot = this.#snapshot;
    if (snapshot === undefined) return undefined;
    // Only answers about clusters that exist are kept: any other name a client sends is `[]`, and costs no memory.
    if (filter.cluster !== undefined && !snapshot.clusters.some((state) => state.cluster.name === filter.cluster)) return NO_TARGETS;
    const key = `${filter.interval ?? ''}\u0000${filter.cluster ?? ''}`;
    let answer = this.#bodies.get(key);
    if (answer === undefined) {
      answer = new SharedAnswer(toHttpSdJson(snapshot.groups, filter), 'application/json');
      this.#bodies.set(key, answer);
    }
    return answer;
  }

  get readiness(): Readiness {
    if (this.#snapshot === undefined) return { ready: false, reason: 'no round has published targets yet' };
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
    const describe = (cluster: UnreadCluster) => `${cluster.name} (${cluster.region}): ${cluster.reason}`;
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
