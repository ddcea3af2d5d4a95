// End-to-end tests of hostile model files given to the page's "use your own model": each file row
// of the bad-input table in docs/RELIABILITY.md is refused with its message while the previous
// model keeps working. Then worker resilience: a model that needs more memory than WebAssembly can
// give (5 GB of live intermediates, see onnx.mjs) really exhausts the engine's memory; the page must
// say so in words, start a fresh engine with the default model, keep what the user typed, and draw
// again.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { artifacts, canvasPixels, dist, fillAndWait, READY_TIMEOUT_MS, useSession, waitReady } from './helpers.mjs';
import { decoderStyleModel, memoryHogModel, unsupportedOpModel } from './onnx.mjs';

const session = useSession();

const SECOND = '[data-testid="sentence-input"] >> nth=1';
const TYPED = 'The engine must not lose this sentence';
const DEFAULT_MODEL = join(dist, 'models', 'default', 'model.onnx');
const DEFAULT_TOKENIZER = join(dist, 'models', 'default', 'tokenizer.json');
/** A valid WordPiece tokenizer.json of another, larger vocabulary: its ids run past the model's table. */
const OTHER_VOCABULARY = JSON.stringify({
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [],
  normalizer: null,
  pre_tokenizer: { type: 'Whitespace' },
  post_processor: null,
  decoder: null,
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: { '[PAD]': 0, '[UNK]': 1, apple: 40000 } },
});

const file = (name, buffer) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(buffer) });

/** The file rows of docs/RELIABILITY.md's bad-input table: what is wrong (the other file is the default model's), and what the page must say. */
const HOSTILE = [
  { what: 'a zero-byte model', model: file('empty.onnx', []), says: /the model file is empty \(0 bytes\)/ },
  {
    what: 'a truncated model',
    model: file('truncated.onnx', readFileSync(DEFAULT_MODEL).subarray(0, 1_000_000)),
    says: /this is not a readable ONNX model \(.+\); the file may be truncated, corrupt or in another format/,
  },
  {
    what: 'a PNG renamed .onnx',
    model: file('picture.onnx', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]),
    says: /this is not a readable ONNX model/,
  },
  {
    what: 'a decoder (GPT-style) model',
    model: file('gpt.onnx', decoderStyleModel()),
    says: /this ONNX model is not a BERT-family encoder: it takes an input named "position_ids"; expected input_ids, attention_mask and optionally token_type_ids/,
  },
  {
    what: 'a model using an ONNX op tract does not run',
    model: file('det.onnx', unsupportedOpModel()),
    says: /this model uses the ONNX op Det, which bertscope does not run/,
  },
  {
    what: 'a tokenizer.json that is not JSON',
    tokenizer: file('tokenizer.json', 'this is not JSON'),
    says: /the tokenizer could not be read: it is not a valid tokenizer\.json/,
  },
  {
    what: 'a tokenizer.json of another vocabulary',
    tokenizer: file('tokenizer.json', OTHER_VOCABULARY),
    says: /the tokenizer and the model do not match: the tokenizer knows 40001 tokens but the model's embedding table has 30522 rows/,
  },
];

describe('hostile model files', { concurrency: false }, () => {
  let page;

  it('loads, and the user types a sentence', { timeout: READY_TIMEOUT_MS + 60_000 }, async () => {
    page = await session.open();
    await fillAndWait(page, SECOND, TYPED);
  });

  for (const { what, model = DEFAULT_MODEL, tokenizer = DEFAULT_TOKENIZER, says } of HOSTILE) {
    it(`${what}: refused in words, the previous model kept`, { timeout: 120_000 }, async () => {
      if (!(await page.isVisible('[data-testid="byo-model-file"]'))) await page.click('[data-testid="byo-summary"]');
      await page.evaluate(() => {
        const message = document.querySelector('[data-testid="byo-message"]');
        if (message) message.dataset.kind = '';
      });
      await page.setInputFiles('[data-testid="byo-tokenizer-file"]', tokenizer);
      await page.setInputFiles('[data-testid="byo-model-file"]', model);
      const message = page.locator('[data-testid="byo-message"][data-kind="error"]');
      await message.waitFor({ timeout: 110_000 });
      const text = await message.textContent();
      assert.match(text, says);
      assert.match(text, /\. The previous model is still loaded\.$/);
      assert.match(await page.textContent('[data-testid="model-info"]'), /all-MiniLM-L6-v2/);
    });
  }

  it('the default model still runs the user’s sentence', async () => {
    assert.equal(await page.inputValue(SECOND), TYPED);
    await fillAndWait(page, SECOND, `${TYPED}.`);
    await fillAndWait(page, SECOND, TYPED);
    assert.equal((await canvasPixels(page, 'focus-heatmap')).length, 2);
  });

  it('a model too big for wasm memory ends in a message, a restart and the user’s inputs kept', { timeout: 600_000 }, async () => {
    await page.click('[data-testid="byo-summary"]');
    await page.setInputFiles('[data-testid="byo-tokenizer-file"]', join(dist, 'models', 'default', 'tokenizer.json'));
    await page.setInputFiles('[data-testid="byo-model-file"]', {
      name: 'memory-hog.onnx',
      mimeType: 'application/octet-stream',
      buffer: memoryHogModel(),
    });
    const crash = page.locator('[data-testid="notices"] li[data-kind="crash"]');
    await crash.waitFor({ timeout: 540_000 });
    const said = await crash.textContent();
    console.log(`  the page said: ${said}`);
    assert.match(said, /^The engine stopped while running memory-hog\.onnx \(your file\): it ran out of memory/);
    assert.match(said, /It restarted with all-MiniLM-L6-v2 .*; your sentences are kept\.$/);
    assert.doesNotMatch(said, /RuntimeError|unreachable|panicked|wasm-function/, 'plain words, not a stack trace');
    await waitReady(page);
    assert.equal(await page.inputValue(SECOND), TYPED, 'the user’s sentence is kept');
    assert.match(await page.textContent('[data-testid="model-info"]'), /all-MiniLM-L6-v2/);
    assert.doesNotMatch(await page.textContent('[data-testid="model-info"]'), /your file/);
    assert.equal(await page.textContent('[data-testid="byo-message"]'), 'memory-hog.onnx stopped the engine; drop it again to retry.');
    assert.equal((await canvasPixels(page, 'focus-heatmap')).length, 2, 'both heatmaps drawn again');
    await page.screenshot({ path: join(artifacts, 'resilience-restart.png'), fullPage: true });
  });

  it('keeps working after the restart', async () => {
    await fillAndWait(page, SECOND, 'I am eating an apple');
    assert.equal((await canvasPixels(page, 'focus-heatmap')).length, 2);
  });

  it('logged only the engine’s own report of the failed allocation', () => {
    // Rust's panic hook logs why the engine stopped: proof the memory really ran out.
    const { problems } = session;
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0], /^console: panicked at .*\nfailed to allocate/);
  });
});
