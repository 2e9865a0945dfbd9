/** The target groups a path can land in: one per scrape interval, plus the generic one. */
export const INTERVALS = ['15s', '30s', '1m', '5m', 'generic'] as const;
export type IntervalName = (typeof INTERVALS)[number];

/** The length of each specific interval, in seconds. */
export const INTERVAL_SECONDS: Readonly<Record<Exclude<IntervalName, 'generic'>, number>> = { '15s': 15, '30s': 30, '1m': 60, '5m': 300 };

export const isIntervalName = (value: string): value is IntervalName =>
  (INTERVALS as readonly string[]).includes(value);

/** One metrics path of a container, and the interval group it belongs to. */
export interface Endpoint {
  interval: IntervalName;
  path: string;
}

export interface ParsedEndpoints {
  endpoints: Endpoint[];
  warnings: string[];
}

/**
 * Parses `PROMETHEUS_ENDPOINT`: comma-separated entries, each `path` or `interval:path`.
 * Whitespace is ignored, empty entries and empty paths are skipped, the last entry for a path
 * wins. An entry without an interval goes to `defaultInterval` (the generic group unless set);
 * unset or empty (nothing left after skipping) means `defaultPath` there.
 */
export function parseEndpoints(text: string | undefined, defaultPath: string, defaultInterval: IntervalName = 'generic'): ParsedEndpoints {
  const warnings: string[] = [];
  const intervalByPath = new Map<string, IntervalName>();

  for (const rawEntry of (text ?? '').split(',')) {
    const entry = rawEntry.trim();
    if (entry === '') continue;
    const colon = entry.indexOf(':');
    // "interval:path" unless the text before the first colon is itself a path ("/a:b").
    const hasInterval = colon >= 0 && !entry.slice(0, colon).trim().startsWith('/');
    const intervalText = entry.slice(0, colon).trim();
    let path = hasInterval ? entry.slice(colon + 1).trim() : entry;
    if (path === '') {
      warnings.push(`endpoint "${entry}" has an empty path; skipped`);
      continue;
    }
    let interval: IntervalName = defaultInterval;
    if (hasInterval && intervalText !== 'generic' && isIntervalName(intervalText)) {
      interval = intervalText;
    } else if (hasInterval) {
      interval = 'generic';
      warnings.push(
        `endpoint "${entry}": interval "${intervalText}" is not one of 15s, 30s, 1m, 5m; using the generic group`,
      );
    }
    if (!path.startsWith('/')) {
      warnings.push(`endpoint "${entry}": path "${path}" does not start with "/"; using "/${path}"`);
      path = `/${path}`;
    }
    // Delete first so that the last entry also decides the order.
    intervalByPath.delete(path);
    intervalByPath.set(path, interval);
  }

  if (intervalByPath.size === 0) {
    return { endpoints: [{ interval: defaultInterval, path: defaultPath }], warnings };
  }
  const endpoints = [...intervalByPath].map(([path, interval]) => ({ interval, path }));
  return { endpoints, warnings };
}
