import { describe, expect, it, vi } from 'vitest';
import type { LogFields } from '../../../src/log.js';

// As when dist/re2js.cjs was not copied with the rest of dist/.
vi.mock('../../../src/discovery/re2.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../src/discovery/re2.js')>();
  return {
    ...actual,
    re2: () => {
      throw new actual.Re2MissingError(new Error("Cannot find module './re2js.cjs'\nRequire stack:\n- /app/dist/chunk.js"));
    },
  };
});
const { loadConfig } = await import('../../../src/config.js');
const { createHttpServer, close, listen } = await import('../../../src/http/server.js');
const { Status } = await import('../../../src/http/status.js');
const { createMetrics } = await import('../../../src/metrics.js');
const { toPublishedGroup } = await import('../../../src/discovery/targetGroups.js');
const { silentLogger } = await import('../../../src/log.js');

/** The message of what `load` throws; '' when it does not. */
function errorOf(load: () => unknown): string {
  try {
    load();
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

const MISSING = "re2js, which compiles regular expressions, cannot be loaded (Cannot find module './re2js.cjs'): the installation is incomplete";

describe('re2js missing from the installation', () => {
  it('is what a cluster pattern setting says, in one line, not that the pattern is wrong', () => {
    const message = errorOf(() => loadConfig({ env: { ECS_DISCOVERER_CLUSTER_INCLUDE: '^prod-' } }));

    expect(message).toContain(`clusters.include (--cluster-include, ECS_DISCOVERER_CLUSTER_INCLUDE): ${MISSING}`);
    expect(message).not.toContain('expected a regular expression');
    expect(message.split('\n')).toHaveLength(1);
  });

  it('is what a selector with a regular expression says, in one line, not that the expression is wrong', () => {
    const message = errorOf(() => loadConfig({ env: { ECS_DISCOVERER_SELECTIONS: '{"payments":"team=~\\"pay.*\\""}' } }));

    expect(message).toContain(`selections (--selections, ECS_DISCOVERER_SELECTIONS): selection "payments": ${MISSING}`);
    expect(message).not.toContain('is not a regular expression');
    expect(message.split('\n')).toHaveLength(1);
  });
});

describe('re2js missing, and a request selects with a regular expression', () => {
  it('answers 500, the server\'s fault, and logs why in one line; a selector without one is served', async () => {
    const errors: string[] = [];
    const logger = { ...silentLogger, error: (message: string, fields?: LogFields) => errors.push(`${message}: ${String(fields?.error)}`) };
    const status = new Status({ unreadyAfterFailedRounds: 2, version: '1.2.3' });
    const group = toPublishedGroup({ interval: 'generic', cluster: 'prod', address: '127.0.0.1:8080', labels: { job: 'api' } });
    status.publish({ finishedAt: 1, clusters: [], groups: { generic: [group], '15s': [], '30s': [], '1m': [], '5m': [] } });
    const server = createHttpServer({ status, registry: createMetrics().registry, logger });
    const { port } = await listen(server, '127.0.0.1', 0);
    try {
      const byPattern = await fetch(`http://127.0.0.1:${port}/targets?match=${encodeURIComponent('job=~"a.*"')}`);
      const byValue = await fetch(`http://127.0.0.1:${port}/targets?match=${encodeURIComponent('job="api"')}`);

      expect(byPattern.status).toBe(500);
      expect(errors).toEqual([`HTTP request failed: ${MISSING}; copy all of dist/, its .cjs files too`]);
      expect(byValue.status).toBe(200);
      expect(((await byValue.json()) as unknown[]).length).toBe(1);
    } finally {
      await close(server);
    }
  });
});
