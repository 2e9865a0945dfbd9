import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byText, formatCount } from '../../src/text.js';

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
