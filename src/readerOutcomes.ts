import type { LogFields } from './log.js';
import type { ReaderOutcome, RegionReader } from './round.js';
import { byText } from './discovery/text.js';

/**
 * Where a cluster or a reader is, for a log line or a page: its region, and its account when the
 * process reads several accounts (`aws.roles`), where cluster names repeat.
 */
export function placeOf(region: string, account: string | undefined, namesAccount: boolean): string {
  return namesAccount && account !== undefined ? `${account}, ${region}` : region;
}

/** Whether the readers read through roles, so that texts name the account of each cluster. */
export const namesAccounts = (readers: readonly Pick<RegionReader, 'role'>[]): boolean => readers.some((reader) => reader.role !== undefined);

/** A failing role: one log line per round, whatever the number of its regions. */
export interface RoleFailure {
  text: string;
  fields: LogFields;
}

/**
 * How each reader (account and region) fared in a round: listed, or failed with a reason. The
 * failures of a role are said once per round, with its regions, not once per region: a role
 * that cannot be assumed fails every region alike.
 */
export class ReaderOutcomes {
  readonly #outcomes: ReaderOutcome[] = [];

  listed(reader: RegionReader, clusters: number): void {
    this.#outcomes.push({ account: reader.account, region: reader.region, role: reader.role, clusters });
  }

  failed(reader: RegionReader, reason: string): void {
    this.#outcomes.push({ account: reader.account, region: reader.region, role: reader.role, clusters: undefined, error: reason });
  }

  /** Every reader's outcome, by account and region. */
  list(): readonly ReaderOutcome[] {
    return Object.freeze(
      [...this.#outcomes].sort((a, b) => byText(a.account ?? '', b.account ?? '') || byText(a.region, b.region)),
    );
  }

  /** One line per failing role and reason, naming its regions; `what` says what became of its clusters. */
  roleFailures(what: string): RoleFailure[] {
    const byRole = new Map<string, { role: string; account: string | undefined; reason: string; regions: string[] }>();
    for (const outcome of this.#outcomes) {
      if (outcome.role === undefined || outcome.error === undefined) continue;
      const key = `${outcome.role}\u0000${outcome.error}`;
      const failure = byRole.get(key) ?? { role: outcome.role, account: outcome.account, reason: outcome.error, regions: [] };
      failure.regions.push(outcome.region);
      byRole.set(key, failure);
    }
    return [...byRole.values()].map(({ role, account, reason, regions }) => ({
      text: `role ${role} (account ${account ?? 'unknown'}) in ${regions.sort().join(', ')}: ${what}: ${reason}`,
      fields: { role, account, regions: regions.join(','), error: reason },
    }));
  }
}
