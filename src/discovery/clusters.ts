import type { ClusterRef } from './model.js';

/** Which clusters to scan: by name or ARN, and by patterns on the name. */
export interface ClusterSelection {
  /** Names or ARNs; empty: every cluster. */
  names: readonly string[];
  /** Only clusters whose name matches. */
  include?: RegExp;
  /** No cluster whose name matches (wins over the others). */
  exclude?: RegExp;
}

/** The listed clusters that the selection keeps, in their listed order. */
export function selectClusters(clusters: readonly ClusterRef[], selection: ClusterSelection): ClusterRef[] {
  return clusters.filter(
    (cluster) =>
      (selection.names.length === 0 || selection.names.includes(cluster.name) || selection.names.includes(cluster.arn)) &&
      (selection.include === undefined || selection.include.test(cluster.name)) &&
      !(selection.exclude?.test(cluster.name) ?? false),
  );
}
