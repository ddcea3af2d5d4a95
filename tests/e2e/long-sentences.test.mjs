// End-to-end tests of URL state that always reloads (issue 18, defect 5): sentences no server would
// take in a request line stay out of the query. A 3,000-character sentence travels in the fragment
// (a link still carries it); a 20,000-character one is kept in this browser's storage, the address
// names it, and the page says a link cannot carry it. Reloading keeps the text either way. The
// test server takes any request line, so the tests assert the address's length, not a 431.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { READY_TIMEOUT_MS, useSession, waitReady } from './helpers.mjs';

const session = useSession();

const FIRST = '[data-testid="sentence-input"] >> nth=0';
/** Longest address the page may send to a server (url.ts's MAX_QUERY_URL_BYTES). */
const MAX_REQUEST_URL = 2_000;

/** `length` characters of text, words the tokenizer knows. */
function sentenceOf(length) {
  return 'I am eating an apple and the bank raised its rates. '.repeat(Math.ceil(length / 51)).slice(0, length);
}

/** What a reload (or a link) would send to the server: the address without its fragment. */
const requestUrl = (href) => href.split('#')[0];

/** Types `text` as the first sentence and waits until the address has taken it in (`place` tells how). */
async function typeLong(page, text, place) {
  await page.fill(FIRST, text);
  await waitReady(page);
  await page.waitForFunction(
    (where) => {
      const url = new URL(location.href);
      if (where === 'fragment') return new URLSearchParams(url.hash.slice(1)).has('s');
      return url.searchParams.has('saved') && !url.searchParams.has('s');
    },
    place,
    { timeout: 10_000 },
  );
  return page.url();
}

describe('long sentences in the address', { concurrency: false }, () => {
  it('3,000 characters go in the fragment: the request stays short, reload and a link keep the text', { timeout: 3 * READY_TIMEOUT_MS }, async () => {
    const page = await session.open();
    const text = sentenceOf(3_000);
    const href = await typeLong(page, text, 'fragment');
    assert.ok(requestUrl(href).length <= MAX_REQUEST_URL, `the request would be ${requestUrl(href).length} bytes`);
    assert.ok(!new URL(href).searchParams.has('s'), 'no sentence left in the query');
    assert.equal(await page.isHidden('[data-testid="link-note"]'), true, 'a link carries these: nothing to say');
    await page.reload();
    await waitReady(page);
    assert.equal(await page.inputValue(FIRST), text, 'reload kept the text');
    const other = await session.freshPage();
    await other.goto(href);
    await waitReady(other);
    assert.equal(await other.inputValue(FIRST), text, 'the link carried the text to another browser');
    await other.context().close();
    await page.close();
  });

  it('20,000 characters are kept in this browser: a short address, a note, and reload keeps the text', { timeout: 3 * READY_TIMEOUT_MS }, async () => {
    const page = await session.open();
    const text = sentenceOf(20_000);
    const href = await typeLong(page, text, 'saved');
    assert.ok(href.length <= MAX_REQUEST_URL, `the address is ${href.length} bytes`);
    assert.equal(new URL(href).hash, '');
    const characters = (text.length + (await page.inputValue('[data-testid="sentence-input"] >> nth=1')).length).toLocaleString('en');
    assert.equal(
      await page.textContent('[data-testid="link-note"]'),
      `Your sentences (${characters} characters) are too long for a link: this page's address keeps them in this browser only. Reloading keeps them; a link sent to someone else opens without them.`,
    );
    await page.reload();
    await waitReady(page);
    assert.equal(await page.inputValue(FIRST), text, 'reload kept the text');
    assert.equal(page.url(), href, 'the address is the same after the reload');

    const other = await session.freshPage();
    await other.goto(href);
    await waitReady(other);
    assert.equal(await other.textContent('[data-testid="link-note"]'), 'This link’s sentences were too long to travel in it: they were kept in the browser that made it, not in this one, so the page shows its own sentences.');
    assert.notEqual(await other.inputValue(FIRST), text);
    await other.context().close();
    await page.close();
  });

  it('short sentences stay in the query, as before', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await session.open();
    await page.fill(FIRST, 'The bank raised its rates');
    await waitReady(page);
    await page.waitForFunction(() => new URL(location.href).searchParams.getAll('s')[0] === 'The bank raised its rates', null, { timeout: 10_000 });
    assert.equal(new URL(page.url()).hash, '');
    assert.equal(await page.isHidden('[data-testid="link-note"]'), true);
    await page.close();
  });

  it('logged no console errors', () => {
    session.assertNoProblems();
  });
});
