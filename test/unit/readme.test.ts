import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config.js';

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

  it('opens with the two quick-start commands that .ci/run and users run', () => {
    const ciRun = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');

    expect(readme).toContain('npm ci && npm run build && npx prometheus-ecs-discoverer --output-dir ./targets');
    expect(readme).toContain('npm ci && npm test');
    expect(ciRun).toContain('npm ci && npm test');
  });
});
