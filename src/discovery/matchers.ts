import type { RE2JS } from 're2js';
import { re2 } from './re2.js';

/** PromQL's matching operators. */
export const MATCH_OPERATORS = ['=', '!=', '=~', '!~'] as const;
export type MatchOperator = (typeof MATCH_OPERATORS)[number];

/** One label matcher, as in a PromQL selector: `team="payments"`, `job=~"api-.*"`. */
export interface LabelMatcher {
  readonly name: string;
  readonly operator: MatchOperator;
  readonly value: string;
  /** For `=~` and `!~`: the value as an anchored RE2 pattern (linear time, as Prometheus' RE2). */
  readonly test: (text: string) => boolean;
}

export type ParsedMatchers = { matchers: LabelMatcher[] } | { error: string };

const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;

/** Go's string escapes, as PromQL reads them inside "" and ''. */
const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

class SelectorError extends Error {}

/**
 * A reader of PromQL label matchers: `{name op "value", ...}` (the braces and the quotes as in
 * PromQL: "double", 'single' or `raw`), or a single matcher without braces whose value may be
 * left bare to the end of the text (`team=payments`, `job=~api-.*`), for short URLs. Several
 * matchers all have to match.
 */
class SelectorReader {
  #at = 0;
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  read(): LabelMatcher[] {
    this.#skipSpaces();
    if (this.#peek() !== '{') {
      const matcher = this.#matcher(true);
      this.#expectEnd();
      return [matcher];
    }
    this.#at += 1;
    const matchers: LabelMatcher[] = [];
    for (;;) {
      this.#skipSpaces();
      if (this.#peek() === '}') break;
      matchers.push(this.#matcher(false));
      this.#skipSpaces();
      if (this.#peek() === ',') {
        this.#at += 1;
        continue;
      }
      if (this.#peek() !== '}') throw this.#error('expected "," or "}"');
    }
    this.#at += 1;
    this.#expectEnd();
    if (matchers.length === 0) throw new SelectorError('no matcher between "{" and "}"');
    return matchers;
  }

  #matcher(bareValueAllowed: boolean): LabelMatcher {
    this.#skipSpaces();
    LABEL_NAME.lastIndex = this.#at;
    const name = LABEL_NAME.exec(this.#text)?.[0];
    if (name === undefined) throw this.#error('expected a label name');
    this.#at += name.length;
    this.#skipSpaces();
    const operator = (['=~', '!~', '!=', '='] as const).find((candidate) => this.#text.startsWith(candidate, this.#at));
    if (operator === undefined) throw this.#error(`expected one of ${MATCH_OPERATORS.join(' ')} after "${name}"`);
    this.#at += operator.length;
    this.#skipSpaces();
    const quote = this.#peek();
    let value: string;
    if (quote === '"' || quote === "'" || quote === '`') value = this.#quoted(quote);
    else if (bareValueAllowed) {
      value = this.#text.slice(this.#at).trimEnd();
      this.#at = this.#text.length;
    } else throw this.#error('expected a quoted value');
    return toMatcher(name, operator, value);
  }

  #quoted(quote: string): string {
    const start = this.#at;
    this.#at += 1;
    let value = '';
    while (this.#at < this.#text.length) {
      const char = this.#text[this.#at] as string;
      this.#at += 1;
      if (char === quote) return value;
      if (char !== '\\' || quote === '`') {
        value += char;
        continue;
      }
      value += this.#escape(quote);
    }
    this.#at = start;
    throw this.#error(`unterminated ${quote}-quoted value`);
  }

  #escape(quote: string): string {
    const char = this.#text[this.#at] ?? '';
    this.#at += 1;
    if (char === quote) return char;
    const simple = SIMPLE_ESCAPES[char];
    if (simple !== undefined) return simple;
    const digits = char === 'x' ? 2 : char === 'u' ? 4 : char === 'U' ? 8 : 0;
    const hex = this.#text.slice(this.#at, this.#at + digits);
    if (digits > 0 && new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) {
      this.#at += digits;
      return String.fromCodePoint(Number.parseInt(hex, 16));
    }
    this.#at -= 2;
    throw this.#error(`unknown escape "\\${char}"`);
  }

  #skipSpaces(): void {
    while (/\s/.test(this.#peek())) this.#at += 1;
  }

  #peek(): string {
    return this.#text[this.#at] ?? '';
  }

  #expectEnd(): void {
    this.#skipSpaces();
    if (this.#at < this.#text.length) throw this.#error('unexpected text');
  }

  #error(problem: string): SelectorError {
    return new SelectorError(`${problem} at character ${this.#at + 1}`);
  }
}

function toMatcher(name: string, operator: MatchOperator, value: string): LabelMatcher {
  if (operator === '=' || operator === '!=') {
    const equal = operator === '=';
    return { name, operator, value, test: (text) => (text === value) === equal };
  }
  // Loaded before the try: re2js missing (Re2MissingError) is the installation's fault, not the
  // selector's; a request gets a 500 and the log line, a setting its one line.
  const engine = re2();
  let pattern: RE2JS;
  try {
    // Anchored at both ends, as Prometheus anchors its regular expressions.
    pattern = engine.compile(`^(?:${value})$`);
  } catch (error) {
    throw new SelectorError(`"${value}" is not a regular expression in RE2 syntax: ${error instanceof Error ? error.message : String(error)}`);
  }
  const matching = operator === '=~';
  return { name, operator, value, test: (text) => pattern.matcher(text).matches() === matching };
}

/** Reads a selector (see SelectorReader); the error says what is wrong and where. Throws Re2MissingError (see re2.ts). */
export function parseMatchers(text: string): ParsedMatchers {
  try {
    return { matchers: new SelectorReader(text).read() };
  } catch (error) {
    if (error instanceof SelectorError) return { error: `selector ${JSON.stringify(text)}: ${error.message}` };
    throw error;
  }
}

/** Whether a label set satisfies every matcher; a missing label matches as the empty value, as in PromQL. */
export function matchesAll(labels: Readonly<Record<string, string>>, matchers: readonly LabelMatcher[]): boolean {
  return matchers.every((matcher) => matcher.test(labels[matcher.name] ?? ''));
}

/** The selector again, in PromQL's canonical form: a key for caches, and what the status page shows. */
export function formatMatchers(matchers: readonly LabelMatcher[]): string {
  return `{${matchers.map((matcher) => `${matcher.name}${matcher.operator}${JSON.stringify(matcher.value)}`).join(',')}}`;
}
