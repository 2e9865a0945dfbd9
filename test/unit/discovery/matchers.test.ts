import { describe, expect, it } from 'vitest';
import { formatMatchers, matchesAll, parseMatchers, type LabelMatcher } from '../../../src/discovery/matchers.js';

function matchersOf(text: string): LabelMatcher[] {
  const parsed = parseMatchers(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.matchers;
}

const labels = { team: 'payments', job: 'api-gateway', env: 'prod', __meta_ecs_cluster: 'blue' };

describe('parseMatchers', () => {
  it.each([
    ['team=payments', '{team="payments"}'],
    ['job=~api-.*', '{job=~"api-.*"}'],
    ['team!=search', '{team!="search"}'],
    ['env!~dev|test', '{env!~"dev|test"}'],
    ['team="payments"', '{team="payments"}'],
    ["team='pay\\'ments'", '{team="pay\'ments"}'],
    ['team=`a\\b`', '{team="a\\\\b"}'],
    ['{team="payments", job=~"api-.*",}', '{team="payments",job=~"api-.*"}'],
    ['  { team = "a,b" , env != "x" }  ', '{team="a,b",env!="x"}'],
    ['name="\\u00e9\\x41\\n"', '{name="éA\\n"}'],
    ['team=', '{team=""}'],
  ])('reads %s', (text, canonical) => {
    expect(formatMatchers(matchersOf(text))).toBe(canonical);
  });

  it.each([
    ['', 'expected a label name at character 1'],
    ['9team=a', 'expected a label name at character 1'],
    ['team', 'expected one of = != =~ !~ after "team" at character 5'],
    ['{team=a}', 'expected a quoted value at character 7'],
    ['{team="a" env="b"}', 'expected "," or "}" at character 11'],
    ['{}', 'no matcher between "{" and "}"'],
    ['{team="a"', 'expected "," or "}" at character 10'],
    ['team="a', 'unterminated "-quoted value at character 6'],
    ['team="\\q"', 'unknown escape "\\q" at character 7'],
    ['job=~(api', 'is not a regular expression in RE2 syntax'],
    ['job=~(?=x)', 'is not a regular expression in RE2 syntax'],
    ['{team="a"} x', 'unexpected text at character 12'],
  ])('rejects %s, saying what and where', (text, error) => {
    const parsed = parseMatchers(text);
    expect('error' in parsed && parsed.error).toContain(error);
    expect('error' in parsed && parsed.error.startsWith(`selector ${JSON.stringify(text)}: `)).toBe(true);
  });
});

describe('matchesAll', () => {
  it.each([
    ['team=payments', true],
    ['team=search', false],
    ['team!=search', true],
    ['job=~api-.*', true],
    // Anchored at both ends, as Prometheus anchors: "api" alone does not match "api-gateway".
    ['job=~api', false],
    ['job!~api', true],
    ['{team="payments",env="prod"}', true],
    ['{team="payments",env="dev"}', false],
    // A missing label is the empty value, as in PromQL.
    ['owner=""', true],
    ['owner!=""', false],
    ['owner=~".*"', true],
    ['__meta_ecs_cluster=blue', true],
  ])('%s → %s', (text, expected) => {
    expect(matchesAll(labels, matchersOf(text))).toBe(expected);
  });

  it('matches a regex in linear time: a nested quantifier cannot stall it', () => {
    const matchers = matchersOf('job=~(a+)+$');
    expect(matchesAll({ job: `${'a'.repeat(5_000)}-` }, matchers)).toBe(false);
  });
});
