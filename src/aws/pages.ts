import { MalformedAnswerError } from '../errors.js';
import { checkNextToken } from './answerShapes.js';

/**
 * Most pages one listing may take. The largest real listing is far shorter: ListTasks answers
 * 100 ARNs a page, so 1,000 pages are 100,000 tasks in one cluster.
 */
export const MAX_PAGES = 1000;

/**
 * The pages of an SDK paginator, ended as a failure when the listing would never end: a
 * next-page token that was answered before (the same one forever, or a cycle), or a token
 * still coming after `maxPages` pages. The SDK's paginator asks for the next page as long as
 * there is a token; this asks for no page beyond those limits.
 */
export async function* guardPages<Page extends object>(
  action: string,
  pages: AsyncIterable<Page>,
  tokenOf: (page: Page) => unknown,
  maxPages = MAX_PAGES,
): AsyncGenerator<Page, void, undefined> {
  const seen = new Set<string>();
  let count = 0;
  for await (const page of pages) {
    count += 1;
    const token = checkNextToken(action, tokenOf(page));
    // An empty token ends the listing, as it does for the SDK's paginator.
    if (token !== undefined && token !== '') {
      if (seen.has(token)) {
        throw new MalformedAnswerError(`${action} answered a next-page token it had answered before, on page ${count}: the listing would never end`);
      }
      if (count >= maxPages) {
        throw new MalformedAnswerError(`${action} answered another next-page token after ${maxPages} pages, more than any real listing needs: the listing was ended`);
      }
      seen.add(token);
    }
    yield page;
  }
}
