import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config.js';
import { SKIP_REASONS } from '../../src/discovery/resolveTargets.js';
import { createMetrics } from '../../src/metrics.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The settings table as it must read: one row per setting of the schema. */
function expectedTable(): string {
  const rows = SETTINGS.map((setting) => {
    const cells = [setting.key, setting.env, setting.flag, JSON.stringify(setting.default)].map((cell) =>
      cell === undefined ? '' : `\`${cell}\``,
    );
    return `| ${[...cells, setting.doc].join(' | ')} |`.replace('|  |', '| |');
  });
  return ['| Key | Environment variable | Flag | Default | Meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

describe('README', () => {
  it('has a settings table that matches the settings schema', () => {
    const table = /<!-- settings-table[^>]*-->\n([\s\S]*?)\n<!-- \/settings-table -->/.exec(readme)?.[1];

    expect(table, `README settings table; expected:\n${expectedTable()}`).toBe(expectedTable());
  });

  it('has a metrics table that matches the registered metrics', () => {
    const rows = createMetrics()
      .registry.getMetricsAsArray()
      .map((metric) => {
        const labels = ((metric as unknown as { labelNames?: string[] }).labelNames ?? []).map((name) => `\`${name}\``).join(', ');
        return `| \`${metric.name}\` | ${metric.type} | ${labels} | ${metric.help} |`.replace('|  |', '| |');
      });
    const expected = ['| Metric | Type | Labels | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
    const table = /<!-- metrics-table[^>]*-->\n([\s\S]*?)\n<!-- \/metrics-table -->/.exec(readme)?.[1];

    expect(table, `README metrics table; expected:\n${expected}`).toBe(expected);
  });

  it('names every skip reason', () => {
    for (const reason of SKIP_REASONS) expect(readme).toContain(`\`${reason}\``);
  });

  it('opens with the two quick-start commands that .ci/run and users run', () => {
    const ciRun = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');

    expect(readme).toContain('npm ci && npm run build && npx prometheus-ecs-discoverer --output-dir ./targets');
    expect(readme).toContain('npm ci && npm test');
    expect(ciRun).toContain('npm ci && npm test');
  });
});
