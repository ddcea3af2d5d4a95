// Hover benchmark (not a test): opens the built page (www/dist, with the model linked as for the
// end-to-end tests) on one 128-token sentence, moves the pointer over the focus heatmap cell by
// cell and prints JSON with the median and p90, in ms, of:
//   handler     work per real mouse move, timed inside the page from a capture listener on window
//               to a bubble listener on window (hit test, hover-layer redraw, read-out text);
//   frame_work  the same for synthetic moves plus the style and layout they cause (forced),
//               i.e. everything a hover frame costs on the main thread before painting;
//   frame_gap   time between animation frames while the pointer moves (16.7 = no frame dropped);
//   zoom_step   one zoom button press: two full redraws of the visible heatmap (at the new cell
//               size, then re-centred), for comparison with the hover-only redraw.
// Usage: node tests/bench/hover.mjs [moves] [device-scale-factor]
import { SCREEN } from '../lib/environment.mjs';
import { Session } from '../lib/session.mjs';

const [moves = 400, scale = 2] = process.argv.slice(2).map(Number);
const TOKENS = 128;

/** Median and 90th percentile of `values`, rounded to µs. */
function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const round = (v) => Math.round(v * 1000) / 1000;
  return { median: round(at(0.5)), p90: round(at(0.9)), max: round(sorted.at(-1)), n: sorted.length };
}

// The built page with its model (checked first), its problems printed on stderr.
const session = new Session({ screen: { ...SCREEN, deviceScaleFactor: scale }, onProblem: (problem) => console.error(problem) });
try {
  await session.start();
  // Words that are one token each: 126 words + [CLS] + [SEP] = 128 tokens.
  const words = 'the apple tree grows near a quiet river and birds sing in its branches'.split(' ');
  const sentence = Array.from({ length: TOKENS - 2 }, (_, i) => words[i % words.length]).join(' ');
  const page = await session.open(`?${new URLSearchParams({ s: sentence })}`);
  const tokens = await page.$$eval('[data-testid="token-table"] tr[data-row="tokens"] td', (tds) => tds.length);
  if (tokens !== TOKENS) throw new Error(`the sentence has ${tokens} tokens, not ${TOKENS}`);

  const heatmap = page.locator('[data-testid="focus-heatmap"]').first();
  await heatmap.scrollIntoViewIfNeeded();
  const box = await heatmap.boundingBox();
  const { left, top, cell } = await heatmap.evaluate((c) => ({ left: +c.dataset.left, top: +c.dataset.top, cell: +c.dataset.cell }));
  const cols = Math.floor((box.width - left) / cell);
  const rows = Math.floor((box.height - top) / cell);

  // Real mouse moves, each into a new cell, timed inside the page.
  await page.evaluate(() => {
    const bench = (window.__hoverBench = { handler: [], gaps: [], start: 0, running: true });
    window.addEventListener('mousemove', () => (bench.start = performance.now()), { capture: true });
    window.addEventListener('mousemove', () => bench.handler.push(performance.now() - bench.start));
    let last = performance.now();
    const tick = (t) => {
      bench.gaps.push(t - last);
      last = t;
      if (bench.running) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  for (let i = 0; i < moves; i++) {
    const r = (i * 7) % rows;
    const c = (i * 13) % cols;
    await page.mouse.move(box.x + left + (c + 0.5) * cell, box.y + top + (r + 0.5) * cell);
  }
  const real = await page.evaluate(() => {
    const bench = window.__hoverBench;
    bench.running = false;
    return { handler: bench.handler, gaps: bench.gaps.slice(1) };
  });
  const readout = await page.textContent('[data-testid="heatmap-readout"]');

  // Synthetic moves with forced style and layout, and full redraws via the zoom buttons.
  const synthetic = await page.evaluate(
    ({ moves, rows, cols, left, top, cell }) => {
      const canvas = document.querySelector('[data-testid="focus-heatmap"]');
      const stage = canvas.parentElement;
      const rect = stage.getBoundingClientRect();
      const work = [];
      for (let i = 0; i < moves; i++) {
        const r = (i * 11) % rows;
        const c = (i * 5) % cols;
        const t0 = performance.now();
        canvas.dispatchEvent(new MouseEvent('mousemove', {
          bubbles: true,
          clientX: rect.left + left + (c + 0.5) * cell,
          clientY: rect.top + top + (r + 0.5) * cell,
        }));
        void document.body.offsetHeight; // style + layout now, inside the timing
        work.push(performance.now() - t0);
      }
      const panel = canvas.closest('.heatmap-panel');
      const full = [];
      for (let i = 0; i < 20; i++) {
        const button = panel.querySelector(i % 2 ? '[data-testid="zoom-out"]' : '[data-testid="zoom-in"]');
        const t0 = performance.now();
        button.click();
        void document.body.offsetHeight;
        full.push(performance.now() - t0);
      }
      return { work, full };
    },
    { moves, rows, cols, left, top, cell },
  );

  console.log(JSON.stringify({
    tokens,
    device_scale_factor: scale,
    cell_css_px: cell,
    visible_cells: `${rows}×${cols}`,
    browser: `Chromium ${session.browser.version()}`,
    last_readout: readout,
    handler: stats(real.handler),
    frame_work: stats(synthetic.work),
    frame_gap: stats(real.gaps),
    zoom_step: stats(synthetic.full),
  }, null, 2));
} finally {
  await session.close();
}
