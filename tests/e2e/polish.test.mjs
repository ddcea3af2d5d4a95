// End-to-end tests of the explorer's smaller promises (issue 16, item 7): the status says "ready"
// only once what the view shows is computed; the link carries the rollout slider, the heatmap zoom
// and the head chips, and Back steps through focus and view changes; a layer asked for by a link
// or kept from a smaller model is fitted and explained.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { READY_TIMEOUT_MS, STATUS, urlWith, useSession, waitReady } from './helpers.mjs';

const SENTENCES = ['Apple is huge enterprise', 'I am eating an apple'];

const session = useSession();

/** The page at `params` (an object or entries), ready. */
function open(params) {
  return session.open(`?${new URLSearchParams(params)}`);
}

describe('the explorer’s smaller promises', { concurrency: false }, () => {
  it('the status is not "ready" while rollout is still being computed', { timeout: READY_TIMEOUT_MS }, async () => {
    const page = await open([...SENTENCES.map((s) => ['s', s]), ['focus', 'apple']]);
    // Every status the page shows, with what the rollout card says at that moment.
    await page.evaluate(() => {
      window.__seen = [];
      const status = document.querySelector('[data-testid="status"]');
      new MutationObserver(() => {
        window.__seen.push([status.textContent, document.querySelector('[data-testid="rollout-summary"]')?.textContent ?? null]);
      }).observe(status, { childList: true, characterData: true, subtree: true });
    });
    await page.click('[data-testid="tab-rollout"]');
    await waitReady(page);
    await page.waitForSelector('[data-testid="rollout-summary"]:not(:empty)');
    const seen = await page.evaluate(() => window.__seen);
    assert.ok(seen.some(([status]) => status === 'computing rollout…'), `the status never said rollout was computing: ${JSON.stringify(seen)}`);
    for (const [status, summary] of seen) assert.ok(!(status === 'ready' && summary === 'computing rollout…'), `"ready" while the card says ${summary}`);
    assert.notEqual(await page.textContent('[data-testid="rollout-summary"]'), 'computing rollout…');
    session.assertNoProblems();
    await page.close();
  });
});
