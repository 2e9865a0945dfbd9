import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';
import { firstLine } from './text.js';

let engine: typeof RE2JS | undefined;

/**
 * re2js, loaded when a pattern is first compiled: most configurations have none, and loading it
 * at start costs some 1 MB of memory. require(), not import(), so that compiling stays synchronous
 * (settings are checked as they are read); in the bundle it loads dist/re2js.cjs, which
 * scripts/bundle.ts builds beside the chunks.
 */
export function re2(): typeof RE2JS {
  if (engine === undefined) {
    try {
      engine = (createRequire(import.meta.url)('re2js') as typeof import('re2js')).RE2JS;
    } catch (error) {
      throw new Re2MissingError(error);
    }
  }
  return engine;
}

/**
 * re2js cannot be loaded: an installation missing a file (dist/ copied in part, its .cjs files
 * left out), not a bad pattern. Its message says so in one line, where a setting's error shows it.
 */
export class Re2MissingError extends Error {
  constructor(cause: unknown) {
    super(`re2js, which compiles regular expressions, cannot be loaded (${firstLine(cause)}): the installation is incomplete; copy all of dist/, its .cjs files too`, { cause });
  }
}
