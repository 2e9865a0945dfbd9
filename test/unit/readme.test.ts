import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SKIP_REASONS } from '../../src/discovery/resolveTargets.js';
import { README, metricsTable, readmeBlock, settingsTable } from '../../scripts/docs.js';

const readme = readFileSync(README, 'utf8');

describe('README', () => {
  it('has a settings table that matches the settings schema (npm run docs writes it)', () => {
    expect(readmeBlock(readme, 'settings-table'), `README settings table; expected:\n${settingsTable()}`).toBe(settingsTable());
  });

  it('has a metrics table that matches the registered metrics (npm run docs writes it)', () => {
    expect(readmeBlock(readme, 'metrics-table'), `README metrics table; expected:\n${metricsTable()}`).toBe(metricsTable());
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
