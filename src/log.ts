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

/** Quotes a text value when it would otherwise be ambiguous in `key=value` form. */
const toTextValue = (value: string | number | boolean): string =>
  typeof value === 'string' && (value === '' || /[\s"=]/.test(value)) ? JSON.stringify(value) : String(value);

/** One line per event: `time level message key=value ...`, or one JSON object. */
export function createLogger({ level, format, write, now = () => new Date() }: LoggerOptions): Logger {
  const output = write ?? ((line: string) => process.stderr.write(line));
  const threshold = LOG_LEVELS.indexOf(level);
  const log = (eventLevel: LogLevel) => (message: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(eventLevel) < threshold) return;
    const time = now().toISOString();
    const defined = Object.entries(fields).filter(
      (entry): entry is [string, string | number | boolean] => entry[1] !== undefined,
    );
    if (format === 'json') {
      output(`${JSON.stringify({ time, level: eventLevel, msg: message, ...Object.fromEntries(defined) })}\n`);
    } else {
      const pairs = defined.map(([key, value]) => ` ${key}=${toTextValue(value)}`).join('');
      output(`${time} ${eventLevel} ${message}${pairs}\n`);
    }
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A logger that drops everything (tests, `check`). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
