export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** text: `time level message key=value ...`; json: one JSON object per line. */
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** @default process.stderr */
  write?: (line: string) => void;
  now?: () => Date;
}

/** C0 and C1 control characters (newlines, ANSI escapes), DEL, and the Unicode line separators. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const CONTROLS = new RegExp(CONTROL.source, 'g');
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Escapes control characters (a newline becomes `\n`, ESC `\u001b`): a value from ECS (a
 * container name, an SDK message) can then neither start a forged line nor send terminal escapes.
 */
const escapeControls = (text: string): string =>
  text.replace(CONTROLS, (char) => NAMED[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Quotes a text value when it would otherwise be ambiguous in `key=value` form. */
const toTextValue = (value: string | number | boolean): string =>
  typeof value === 'string' && (value === '' || /[\s"=]/.test(value) || CONTROL.test(value))
    ? escapeControls(JSON.stringify(value))
    : String(value);

/** One line per event: `time level message key=value ...`, or one JSON object. */
/** A logger whose level can change while it runs (SIGHUP re-reads log.level). */
export interface AdjustableLogger extends Logger {
  setLevel(level: LogLevel): void;
}

export function createLogger({ level, format, write, now = () => new Date() }: LoggerOptions): AdjustableLogger {
  const output = write ?? ((line: string) => process.stderr.write(line));
  let threshold = LOG_LEVELS.indexOf(level);
  const log = (eventLevel: LogLevel) => (message: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(eventLevel) < threshold) return;
    const time = now().toISOString();
    const defined = Object.entries(fields).filter(
      (entry): entry is [string, string | number | boolean] => entry[1] !== undefined,
    );
    if (format === 'json') {
      output(`${JSON.stringify({ time, level: eventLevel, msg: message, ...Object.fromEntries(defined) })}\n`);
    } else {
      const pairs = defined.map(([key, value]) => ` ${escapeControls(key)}=${toTextValue(value)}`).join('');
      output(`${time} ${eventLevel} ${escapeControls(message)}${pairs}\n`);
    }
  };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    setLevel: (next) => {
      threshold = LOG_LEVELS.indexOf(next);
    },
  };
}

/** A logger that drops everything (tests, `check`). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
