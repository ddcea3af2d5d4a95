// Drives tests/bench/engine.html in headless Chromium and prints its JSON result.
// Usage: node tests/bench/engine-bench.mjs MODELS_DIR MODEL TOKENIZER [lengths] [runs]
import { chromium } from 'playwright-core';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../../scripts/serve.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [models, model, tokenizer, lengths = '7,32,128,512', runs = '20'] = process.argv.slice(2);
const server = await serve(path.join(root, 'www'), {
  mounts: { '/models': models, '/bench': path.join(root, 'tests/bench') },
});
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  const query = new URLSearchParams({ model: `/models/${model}`, tokenizer: `/models/${tokenizer}`, lengths, runs });
  await page.goto(`${server.url}bench/engine.html?${query}`);
  await page.waitForFunction(() => window.benchResult, null, { timeout: 15 * 60_000 });
  console.log(JSON.stringify(await page.evaluate(() => window.benchResult)));
} finally {
  await browser.close();
  await server.close();
}
