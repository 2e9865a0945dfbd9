import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byText, firstLine, formatCount } from '../../../src/discovery/text.js';

describe('formatCount', () => {
  it('writes a whole number as toLocaleString("en") does', () => {
    for (const value of [0, 7, 999, 1000, 12_345, 999_999, 1_000_000, -1234, 2 ** 40]) expect(formatCount(value)).toBe(value.toLocaleString('en'));
    fc.assert(fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), (value) => formatCount(value) === value.toLocaleString('en')));
  });
});

describe('byText', () => {
  it('orders as sort() without a comparator does', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' })), (texts) => {
        expect([...texts].sort(byText)).toEqual([...texts].sort());
      }),
    );
  });
});

describe('firstLine', () => {
  it("keeps an error message's first line, without the colon that introduced the excerpt after it", () => {
    expect(firstLine(new Error('All mapping items must start at the same column at line 3, column 1:\n\n bad: [\n^\n'))).toBe('All mapping items must start at the same column at line 3, column 1');
    expect(firstLine(new Error('Cannot find module ./re2js.cjs\nRequire stack:\n- /app/dist/cli.js'))).toBe('Cannot find module ./re2js.cjs');
    expect(firstLine('plain text')).toBe('plain text');
    expect(firstLine(new Error('ratio 1:2 holds'))).toBe('ratio 1:2 holds');
  });
});
