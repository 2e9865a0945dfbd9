/**
 * Text helpers for every layer (the core imports nothing else). Ordering and formatting without
 * ICU: the first call of toLocaleString, localeCompare or an Intl constructor maps Node.js's
 * locale data, and its pages stay resident: some 9 MB of RSS for the rest of the process
 * (measured: opening the status page once, on Node.js 20 and 22). The names ordered and the
 * counts shown here need none of it.
 */

/** Orders by UTF-16 code units, as Array.prototype.sort without a comparator. */
export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A whole number with a comma between groups of three digits, as `toLocaleString('en')` writes it. */
export function formatCount(whole: number): string {
  return String(whole).replace(/\B(?=(\d{3})+$)/g, ',');
}

/**
 * The first line of an error's message, for a one-line error of our own: a parser's message goes
 * on with an excerpt of the text (YAML: "... at line 2, column 1:" and the lines), or a stack.
 * The colon that introduces what followed goes with it.
 */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? '').replace(/:\s*$/, '');
}
