/** Prometheus' label name syntax. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A name Prometheus accepts as a label, reserved ones (`__` prefix) included. */
export const isLabelName = (name: string): boolean => LABEL_NAME.test(name);

/** A name Prometheus accepts as a label, and that is not reserved (`__` prefix). */
export const isUserLabelName = (name: string): boolean => LABEL_NAME.test(name) && !name.startsWith('__');

/**
 * Any text as the tail of a label name: invalid characters become `_`, one per character (not per
 * UTF-16 unit: an emoji is one `_`), as Prometheus' SD does (strutil.SanitizeLabelName).
 */
export const sanitizeLabelName = (text: string): string => text.replace(/[^a-zA-Z0-9_]/gu, '_');

export interface CustomLabels {
  labels: Record<string, string>;
  warnings: string[];
}

/**
 * `<prefix><name>=value` settings → `{ name (lowercased): value }`. Names Prometheus would
 * reject make it refuse the whole file, so they are dropped with a warning.
 */
export function toCustomLabels(settings: Record<string, string>, prefix: string): CustomLabels {
  const labels: Record<string, string> = {};
  const warnings: string[] = [];
  for (const [key, value] of Object.entries(settings)) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length).toLowerCase();
    if (!isUserLabelName(name)) {
      warnings.push(`${key}: "${name}" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, no "__" prefix); skipped`);
      continue;
    }
    labels[name] = value;
  }
  return { labels, warnings };
}

/** A copy with keys in sorted order, so that equal label sets serialise to equal bytes. */
export function sortLabels(labels: Record<string, string>): Record<string, string> {
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(labels).sort()) sorted[name] = labels[name] as string;
  return sorted;
}
