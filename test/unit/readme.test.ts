import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SKIP_REASONS } from '../../src/discovery/resolveTargets.js';
import { PRESETS } from '../../src/presets.js';
import { README, anchorOf, metricsTable, readmeBlock, settingsTable, tableOfContents } from '../../scripts/docs.js';

const readme = readFileSync(README, 'utf8');

describe('README', () => {
  it('has a settings table that matches the settings schema (npm run docs writes it)', () => {
    expect(readmeBlock(readme, 'settings-table'), `README settings table; expected:\n${settingsTable()}`).toBe(settingsTable());
  });

  it('has a metrics table that matches the registered metrics (npm run docs writes it)', () => {
    expect(readmeBlock(readme, 'metrics-table'), `README metrics table; expected:\n${metricsTable()}`).toBe(metricsTable());
  });

  it('has a table of contents of its sections (npm run docs writes it)', () => {
    expect(readmeBlock(readme, 'contents'), `README contents; expected:\n${tableOfContents(readme)}`).toBe(tableOfContents(readme));
  });

  it('makes anchors as GitHub does', () => {
    expect(anchorOf('From teralytics/prometheus-ecs-discovery')).toBe('from-teralyticsprometheus-ecs-discovery');
    expect(anchorOf('Several ports per container (sepich/prometheus-ecs-sd)')).toBe('several-ports-per-container-sepichprometheus-ecs-sd');
    expect(anchorOf('From the CloudWatch agent or the OTel Collector\'s ecs_observer')).toBe('from-the-cloudwatch-agent-or-the-otel-collectors-ecs_observer');
  });

  it('links only to sections that exist', () => {
    const anchors = new Set(tableOfContents(readme).split('\n').map((line) => /\(#([^)]+)\)/.exec(line)?.[1]));
    for (const [, anchor] of readme.matchAll(/\]\(#([^)]+)\)/g)) expect(anchors, `link to #${anchor}`).toContain(anchor);
  });

  it('says in its preset table exactly the settings each preset sets', () => {
    const flatten = (settings: object, prefix = ''): string[] =>
      Object.entries(settings).flatMap(([key, value]) =>
        typeof value === 'object' && value !== null ? flatten(value as object, `${prefix}${key}.`) : [`\`${prefix}${key}\` ${value === '' ? 'empty' : `\`${String(value)}\``}`],
      );

    for (const [name, settings] of Object.entries(PRESETS)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` | `));
      expect(row?.split(' | ')[1]?.replace(/ \|$/, '').split(', ').sort(), name).toEqual(flatten(settings).sort());
    }
  });

  it('gives the flags of the prometheus-ecs-discoverer preset in its migration section', () => {
    const section = readme.slice(readme.indexOf('### From prometheus-ecs-discoverer (trallnag) 3.x'), readme.indexOf('### From prometheus-ecs-sd (signal-ai)'));

    expect(section.replace(/\s+/g, ' ')).toContain('`--marker PROMETHEUS_TARGET --marker-value true`');
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
