import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';

let engine: typeof RE2JS | undefined;

/**
 * re2js, loaded when a pattern is first compiled: most configurations have none, and loading it
 * at start costs some 1 MB of memory. require(), not import(), so that compiling stays synchronous
 * (settings are checked as they are read); in the bundle it loads dist/re2js.cjs, which
 * scripts/bundle.ts builds beside the chunks.
 */
export function re2(): typeof RE2JS {
  engine ??= (createRequire(import.meta.url)('re2js') as typeof import('re2js')).RE2JS;
  return engine;
}
