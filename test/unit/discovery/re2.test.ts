import { describe, expect, it, vi } from 'vitest';

/** How many times something asked for re2js (src/discovery/re2.ts). */
const asked = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../../src/discovery/re2.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../src/discovery/re2.js')>();
  return {
    re2: () => {
      asked.count += 1;
      return actual.re2();
    },
  };
});
const { loadConfig } = await import('../../../src/config.js');

describe('re2js', () => {
  it('is not asked for by settings without a pattern (it costs memory at start), and is by a pattern', () => {
    loadConfig({ env: {} });
    const withoutPattern = asked.count;

    const config = loadConfig({ env: { ECS_DISCOVERER_CLUSTER_INCLUDE: '^prod-', ECS_DISCOVERER_SELECTIONS: '{"payments":"team=~\\"pay.*\\""}' } });

    expect(withoutPattern).toBe(0);
    expect(config.clusters.include).toBe('^prod-');
    expect(asked.count).toBeGreaterThanOrEqual(2);
  });
});
