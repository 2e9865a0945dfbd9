import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';

function capture(format: 'text' | 'json') {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', format, write: (line) => lines.push(line), now: () => new Date('2026-12-01T10:00:00Z') });
  return { logger, lines };
}

describe('createLogger', () => {
  it('writes one text line per event, with key=value fields quoted where needed', () => {
    const { logger, lines } = capture('text');

    logger.info('round', { outcome: 'ok', clusters: 3, error: 'a b', empty: '', skipped: undefined });

    expect(lines).toEqual(['2026-12-01T10:00:00.000Z info round outcome=ok clusters=3 error="a b" empty=""\n']);
  });

  it('cannot be made to write a forged line or a terminal escape by a value from ECS', () => {
    // Prepare: a container name with a newline and a fake log line, and ANSI colours
    const { logger, lines } = capture('text');
    const name = 'web\n2026-12-01T10:00:00.000Z error forged\u001b[31mred\u2028';

    // Act
    logger.warn(`skipped container ${name} of task t1`, { container: name, detail: 'tab\there\r' });

    // Assess
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line?.split('\n')).toEqual([expect.any(String), '']);
    // eslint-disable-next-line no-control-regex -- no raw control character may be left
    expect(line).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(line).toContain('skipped container web\\n2026-12-01T10:00:00.000Z error forged\\u001b[31mred\\u2028 of task t1');
    expect(line).toContain('container="web\\n2026-12-01T10:00:00.000Z error forged\\u001b[31mred\\u2028"');
    expect(line).toContain('detail="tab\\there\\r"');
  });

  it('writes one JSON object per line, whatever the values hold', () => {
    const { logger, lines } = capture('json');

    logger.error('line\nbreak', { container: 'a\nb' });

    expect(lines).toHaveLength(1);
    expect(lines[0]?.trimEnd().includes('\n')).toBe(false);
    expect(JSON.parse(lines[0] ?? '')).toEqual({ time: '2026-12-01T10:00:00.000Z', level: 'error', msg: 'line\nbreak', container: 'a\nb' });
  });

  it('leaves out what is below its level', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', format: 'text', write: (line) => lines.push(line) });

    logger.debug('no');
    logger.info('no');
    logger.warn('yes');

    expect(lines).toHaveLength(1);
  });
});
