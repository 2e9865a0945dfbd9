import { readFileSync, writeFileSync } from 'node:fs';
import { SETTINGS, defaultSettings } from '../src/config.js';
import { createMetrics } from '../src/metrics.js';

/**
 * The parts of the README and settings.default.json that are made from the code. The README
 * test compares them; `npm run docs` writes them.
 */

export const README = new URL('../README.md', import.meta.url);
export const SETTINGS_DEFAULT = new URL('../settings.default.json', import.meta.url);

const row = (cells: (string | undefined)[]) =>
  `| ${cells.map((cell) => cell ?? '').join(' | ')} |`.replace(/\| {2}\|/g, "| |");
const code = (text: string | undefined) => (text === undefined ? undefined : `\`${text}\``);

export function settingsTable(): string {
  const rows = SETTINGS.map((setting) =>
    row([code(setting.key), code(setting.env), code(setting.flag), code(JSON.stringify(setting.default)), setting.range ? `${setting.doc} Range: ${setting.range}.` : setting.doc]),
  );
  return ['| Key | Environment variable | Flag | Default | Meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

export function metricsTable(): string {
  const rows = createMetrics()
    .registry.getMetricsAsArray()
    .map((metric) => {
      const labels = ((metric as unknown as { labelNames?: string[] }).labelNames ?? []).map((name) => `\`${name}\``).join(', ');
      return row([code(metric.name), String(metric.type), labels, metric.help]);
    });
  return ['| Metric | Type | Labels | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** GitHub's anchor of a heading: lower case, punctuation but "-" and "_" dropped, spaces to "-". */
export function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The README's ## and ### headings (outside code blocks) as a nested list of links. */
export function tableOfContents(readme: string): string {
  const lines: string[] = [];
  let inCode = false;
  const seen = new Map<string, number>();
  for (const line of readme.split('\n')) {
    if (line.startsWith('```')) inCode = !inCode;
    const heading = inCode ? null : /^(##|###) (.+)$/.exec(line);
    if (!heading) continue;
    const title = heading[2] as string;
    const base = anchorOf(title);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    const anchor = count === 0 ? base : `${base}-${count}`;
    lines.push(`${heading[1] === '##' ? '' : '  '}- [${title.replace(/`/g, '')}](#${anchor})`);
  }
  return lines.join('\n');
}

export const settingsDefaultJson = () => `${JSON.stringify(defaultSettings(), null, 2)}\n`;

/** The text between `<!-- name ... -->` and `<!-- /name -->` in the README. */
export function readmeBlock(readme: string, name: string): string | undefined {
  return new RegExp(`<!-- ${name}[^>]*-->\\n([\\s\\S]*?)\\n<!-- /${name} -->`).exec(readme)?.[1];
}

function replaceBlock(readme: string, name: string, content: string): string {
  return readme.replace(new RegExp(`(<!-- ${name}[^>]*-->\\n)[\\s\\S]*?(\\n<!-- /${name} -->)`), (_all, open: string, close: string) => `${open}${content}${close}`);
}

/** `npm run docs`: writes the generated parts. */
export function writeDocs(): void {
  let readme = readFileSync(README, 'utf8');
  readme = replaceBlock(readme, 'settings-table', settingsTable());
  readme = replaceBlock(readme, 'metrics-table', metricsTable());
  readme = replaceBlock(readme, 'contents', tableOfContents(readme));
  writeFileSync(README, readme);
  writeFileSync(SETTINGS_DEFAULT, settingsDefaultJson());
}
