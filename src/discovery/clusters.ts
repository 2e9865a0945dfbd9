import { re2 } from './re2.js';
import type { ClusterRef } from './model.js';

/** A pattern on cluster names. */
export interface NamePattern {
  test(name: string): boolean;
}

/**
 * Compiles a cluster pattern with RE2 (re2js): matching takes time linear in the name, so no
 * pattern, such as `(a+)+$`, can block the process. Unanchored, like RegExp.test. Throws on a
 * pattern RE2 does not accept (lookaround, backreferences).
 */
export function compileNamePattern(source: string): NamePattern {
  const pattern = re2().compile(source);
  return { test: (name) => pattern.matcher(name).find() };
}

/** Which clusters to scan: by name or ARN, and by patterns on the name. */
export interface ClusterSelection {
  /** Names or ARNs; empty: every cluster. */
  names: readonly string[];
  /** Only clusters whose name matches. */
  include?: NamePattern;
  /** No cluster whose name matches (wins over the others). */
  exclude?: NamePattern;
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
