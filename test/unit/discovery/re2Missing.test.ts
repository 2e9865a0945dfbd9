import { describe, expect, it, vi } from 'vitest';

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

    expect(message).toContain(`selector "team=~\\"pay.*\\"": ${MISSING}`);
    expect(message).not.toContain('is not a regular expression');
    expect(message.split('\n')).toHaveLength(1);
  });
});
