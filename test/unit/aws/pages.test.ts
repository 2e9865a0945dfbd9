import { describe, expect, it } from 'vitest';
import { guardPages, MAX_PAGES } from '../../../src/aws/pages.js';
import { MalformedAnswerError } from '../../../src/errors.js';

interface Page {
  items: number[];
  nextToken?: unknown;
}

/** A paginator of pages made by `tokenOf(n)` for page n (1-based); counts the pages asked for. */
function listing(tokenOf: (page: number) => unknown, pages = Infinity) {
  const asked = { count: 0 };
  async function* paginate(): AsyncGenerator<Page> {
    for (let page = 1; page <= pages; page++) {
      asked.count += 1;
      const token = tokenOf(page);
      yield { items: [page], ...(token !== undefined && { nextToken: token }) };
      if (token === undefined || token === '') return;
    }
  }
  return { pages: paginate(), asked };
}

async function collect(pages: AsyncIterable<Page>): Promise<number[]> {
  const items: number[] = [];
  for await (const page of pages) items.push(...page.items);
  return items;
}

const tokenOf = (page: Page) => page.nextToken;

describe('guardPages', () => {
  it('yields every page of a listing that ends', async () => {
    const { pages } = listing((page) => (page < 3 ? `t${page}` : undefined));

    expect(await collect(guardPages('ListTasks', pages, tokenOf))).toEqual([1, 2, 3]);
  });

  it('ends at an empty token, as the SDK does', async () => {
    const { pages } = listing((page) => (page < 2 ? 't1' : ''));

    expect(await collect(guardPages('ListTasks', pages, tokenOf))).toEqual([1, 2]);
  });

  it('fails, asking for no more pages, when the same token comes back', async () => {
    const { pages, asked } = listing(() => 'same');

    const listed = collect(guardPages('ListTasks', pages, tokenOf));

    await expect(listed).rejects.toBeInstanceOf(MalformedAnswerError);
    await expect(listed).rejects.toThrow('ListTasks answered a next-page token it had answered before, on page 2: the listing would never end');
    expect(asked.count).toBe(2);
  });

  it('fails when tokens come back in a cycle', async () => {
    const { pages } = listing((page) => (page % 2 === 0 ? 'b' : 'a'));

    await expect(collect(guardPages('ListClusters', pages, tokenOf))).rejects.toThrow('on page 3');
  });

  it(`fails after ${MAX_PAGES} pages when every page has a new token, having asked for no page beyond`, async () => {
    const { pages, asked } = listing((page) => `t${page}`);

    const listed = collect(guardPages('DescribeInstances', pages, tokenOf));

    await expect(listed).rejects.toThrow(`DescribeInstances answered another next-page token after ${MAX_PAGES} pages`);
    expect(asked.count).toBe(MAX_PAGES);
  });

  it('takes a listing of exactly the most pages', async () => {
    const { pages } = listing((page) => (page < 4 ? `t${page}` : undefined));

    expect(await collect(guardPages('ListTasks', pages, tokenOf, 4))).toEqual([1, 2, 3, 4]);
  });

  it('fails on a token that is not a text', async () => {
    const { pages } = listing(() => 5);

    await expect(collect(guardPages('ListTasks', pages, tokenOf))).rejects.toThrow('ListTasks answered a next-page token 5 (expected a string)');
  });
});
