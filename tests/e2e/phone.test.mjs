// End-to-end tests of the explorer on a phone (issue 16, item 4): at 390×844, light and dark, every
// tab of the tab row can be scrolled to and tapped, every view fits the screen or scrolls inside its
// own card (nothing sticks out of the screen unless a box that scrolls sideways holds it), and the
// page itself never scrolls sideways; the heatmap read-outs are never cut. The same for the example
// post and its three widgets. Saves a screenshot of every tab and of the post to tests/artifacts/
// (phone-*.png), to be looked at.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { watchPage } from '../lib/environment.mjs';
import { artifacts, READY_TIMEOUT_MS, useSession, waitReady } from './helpers.mjs';

const PHONE = { width: 390, height: 844 };
const TABS = ['focus', 'head', 'model', 'rollout', 'drift'];
const WIDGET = 'bert-attention';

const session = useSession();

/** A watched page on a 390×844 touch screen in `colorScheme`. */
async function phonePage(colorScheme) {
  const context = await session.browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme });
  return { context, page: watchPage(await context.newPage(), (problem) => session.problems.push(problem)) };
}

/**
 * In the page: how far the document scrolls sideways, and every visible element (the widgets'
 * shadow trees included) that sticks out of the screen without a sideways-scrolling box around it,
 * as `tag.class (left–right)`.
 */
function overflowOf() {
  const width = document.documentElement.clientWidth;
  const scrolls = (element) => {
    const { overflowX } = getComputedStyle(element);
    return overflowX === 'auto' || overflowX === 'scroll';
  };
  const inScroller = (element) => {
    for (let node = element.parentElement ?? element.getRootNode().host; node; node = node.parentElement ?? node.getRootNode().host) {
      if (node === document.documentElement || node === document.body) return false;
      if (scrolls(node)) return true;
    }
    return false;
  };
  const sticking = [];
  const visit = (root) => {
    for (const element of root.querySelectorAll('*')) {
      if (element.shadowRoot) visit(element.shadowRoot);
      const rect = element.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) continue;
      if ((rect.right > width + 0.5 || rect.left < -0.5) && !inScroller(element)) {
        sticking.push(`${element.tagName.toLowerCase()}.${element.className?.baseVal ?? element.className} (${Math.round(rect.left)}–${Math.round(rect.right)})`);
      }
    }
  };
  visit(document);
  return { scrollWidth: document.scrollingElement.scrollWidth, sticking: sticking.slice(0, 8) };
}

/** Asserts the page does not scroll sideways and nothing sticks out of the screen. */
async function assertFits(page, where) {
  const { scrollWidth, sticking } = await page.evaluate(overflowOf);
  assert.deepEqual(sticking, [], `${where}: these stick out of the screen`);
  assert.ok(scrollWidth <= PHONE.width, `${where}: the page is ${scrollWidth} px wide`);
}

for (const scheme of ['light', 'dark']) {
  describe(`the explorer at 390×844, ${scheme}`, { concurrency: false }, () => {
    it('every tab can be scrolled to and tapped; every view fits or scrolls inside its card', { timeout: READY_TIMEOUT_MS * 2 }, async () => {
      const { context, page } = await phonePage(scheme);
      try {
        await page.goto(session.url);
        await waitReady(page);
        assert.equal(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), scheme === 'dark');
        await assertFits(page, 'the page on arrival');
        await page.screenshot({ path: join(artifacts, `phone-${scheme}-page.png`), fullPage: true });
        for (const view of TABS) {
          const tab = page.locator(`[data-testid="tab-${view}"]`);
          await tab.scrollIntoViewIfNeeded();
          const box = await tab.boundingBox();
          assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width, `the ${view} tab is off the screen after scrolling to it: ${JSON.stringify(box)}`);
          await tab.tap();
          await waitReady(page);
          assert.equal(await tab.getAttribute('aria-selected'), 'true', `tapping the ${view} tab did not select it`);
          assert.equal(await page.isVisible(`#panel-${view}`), true);
          await assertFits(page, `the ${view} view`);
          if (view === 'focus') {
            // The heatmap read-outs are whole: the hint, and a cell's value reached by keyboard.
            const cut = () => page.$$eval('[data-testid="heatmap-readout"]', (all) =>
              all.filter((r) => r.scrollHeight > r.clientHeight + 1).map((r) => r.textContent));
            assert.deepEqual(await cut(), [], 'these read-outs are cut');
            await page.locator('#focus-view article .scroll-box').first().focus();
            await page.keyboard.press('ArrowDown');
            assert.match(await page.textContent('[data-testid="heatmap-readout"] >> nth=0'), /^\d\.\d{4} · query/);
            assert.deepEqual(await cut(), [], 'these read-outs are cut');
            await page.keyboard.press('Escape');
          }
          if (view === 'model') {
            // The grid of all 6 × 12 heads fits the phone: no sideways scrolling to see heads 7–12.
            const frame = await page.$eval('#model-view .grid-frame', (f) => [f.scrollWidth, f.clientWidth]);
            assert.ok(frame[0] <= frame[1], `the model view's grid is ${frame[0]} px wide in a ${frame[1]} px card`);
          }
          await page.screenshot({ path: join(artifacts, `phone-${scheme}-${view}.png`) });
          await page.locator(`#panel-${view}`).screenshot({ path: join(artifacts, `phone-${scheme}-${view}-panel.png`) });
        }
        session.assertNoProblems();
      } finally {
        await context.close();
      }
    });
  });
}

describe('the example post at 390×844', () => {
  it('its three figures fit the screen or scroll inside themselves', { timeout: READY_TIMEOUT_MS * 2 }, async () => {
    const { context, page } = await phonePage('light');
    try {
      await page.goto(`${session.url}example-post.html`);
      const count = await page.locator(WIDGET).count();
      assert.equal(count, 3);
      for (let i = 0; i < count; i++) {
        await page.locator(WIDGET).nth(i).scrollIntoViewIfNeeded();
        await page.waitForFunction(
          ([tag, n]) => document.querySelectorAll(tag)[n]?.shadowRoot?.querySelector('[data-testid="widget"]')?.dataset.state === 'ready',
          [WIDGET, i],
          { timeout: READY_TIMEOUT_MS, polling: 100 },
        );
      }
      await assertFits(page, 'the example post');
      await page.screenshot({ path: join(artifacts, 'phone-post.png'), fullPage: true });
      for (let i = 0; i < count; i++) await page.locator(WIDGET).nth(i).screenshot({ path: join(artifacts, `phone-post-figure-${i + 1}.png`) });
      session.assertNoProblems();
    } finally {
      await context.close();
    }
  });
});
