import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { INTERVALS, type IntervalName } from '../discovery/endpoints.js';
import { clusterNameOf } from '../discovery/model.js';
import type { PublishedGroup } from '../discovery/targetGroups.js';

/** The groups an earlier run wrote for one cluster. */
export interface PublishedCluster {
  region: string;
  arn: string;
  name: string;
  targets: PublishedGroup[];
}

export interface ReadBack {
  clusters: PublishedCluster[];
  /** Files that could not be read back (not JSON, not an array of groups): named in a warning. */
  problems: string[];
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/**
 * Reads back the file_sd files an earlier run left in the output directory. They are ours: each
 * group names its cluster (`__meta_ecs_cluster_arn`, `__meta_ecs_region`), so a cluster that
 * cannot be read at start keeps what was published for it. A group without them is not ours
 * and is left out. A missing file is no problem: there was no earlier run.
 */
export async function readPublishedGroups(directory: string, fileNames: Readonly<Record<IntervalName, string>>): Promise<ReadBack> {
  const byArn = new Map<string, PublishedCluster>();
  const problems: string[] = [];
  for (const interval of INTERVALS) {
    const path = join(directory, fileNames[interval]);
    let groups: unknown;
    try {
      groups = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`${path}: ${(error as Error).message}`);
      continue;
    }
    if (!Array.isArray(groups)) {
      problems.push(`${path}: not a JSON array of target groups`);
      continue;
    }
    for (const group of groups as unknown[]) {
      if (!isObject(group) || !isObject(group['labels']) || !Array.isArray(group['targets'])) continue;
      const { labels, targets } = group;
      const arn = labels['__meta_ecs_cluster_arn'];
      const region = labels['__meta_ecs_region'];
      if (typeof arn !== 'string' || typeof region !== 'string') continue;
      let cluster = byArn.get(arn);
      if (cluster === undefined) {
        const name = labels['__meta_ecs_cluster'];
        cluster = { region, arn, name: typeof name === 'string' ? name : clusterNameOf(arn), targets: [] };
        byArn.set(arn, cluster);
      }
      // Our groups are `{"targets":[...],"labels":{...}}` with sorted labels: this gives back their exact text.
      cluster.targets.push(Object.freeze({ interval, cluster: cluster.name, json: JSON.stringify({ targets, labels }) }));
    }
  }
  return { clusters: [...byArn.values()], problems };
}
