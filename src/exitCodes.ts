/** The process's exit codes: the CLI, `--once` and `check` all use these. */
export const EXIT = {
  ok: 0,
  /** A `--once` round failed. */
  failed: 1,
  /** `check` found marked containers that were skipped (or, with --fail-if-empty, no target). */
  findings: 1,
  /** Bad usage or settings. */
  usage: 2,
  /** `check` could not read every cluster. */
  unreadable: 3,
} as const;
