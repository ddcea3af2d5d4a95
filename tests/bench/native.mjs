// Native side: `bertscope bench` (release binary) and Python onnxruntime, in alternating rounds.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { textOfTokens } from './common.js';

const run = promisify(execFile);
const here = path.dirname(new URL(import.meta.url).pathname);

async function json(command, args) {
  const { stdout } = await run(command, args, { maxBuffer: 1 << 28 });
  return JSON.parse(stdout);
}

const bertscopeBench = (bin, model, tokenizer, lengths, runs) =>
  json(bin, ['bench', '--model', model, '--tokenizer', tokenizer, '--lengths', lengths.join(','), '--runs', String(runs)]);

/**
 * The token ids every engine gets: `bertscope bench`'s tokenization of the benchmark sentences.
 * Fails (a broken setup) if a sentence does not give the number of tokens asked for.
 */
export async function benchmarkInputs({ bertscope, model, tokenizer, lengths, outFile }) {
  const out = await bertscopeBench(bertscope, model, tokenizer, lengths, 1);
  const ids = {};
  for (const n of lengths) {
    const entry = out.lengths[n];
    if (entry.text !== textOfTokens(n)) throw new Error(`bertscope bench used another sentence for ${n} tokens`);
    if (entry.input_ids.length !== n) throw new Error(`the ${n}-token sentence gave ${entry.input_ids.length} tokens`);
    ids[n] = entry.input_ids;
  }
  await writeFile(outFile, JSON.stringify(ids));
  return ids;
}

/** Appends each length's times of `result.lengths` to `into[name][n]`. */
function collect(into, name, result) {
  into[name] ??= {};
  for (const [n, { times_ms: times }] of Object.entries(result.lengths)) (into[name][n] ??= []).push(...times);
}

/**
 * Times bertscope (the default file, attention extracted) and Python onnxruntime (each peer file,
 * plain last_hidden_state, 1 thread) on the same ids, `rounds` rounds of runs/rounds each, the
 * order rotating every round. Returns `{times: {engine: {n: [ms]}}, load_ms: {engine: [ms]}, ort_version}`.
 */
export async function nativeLatency({ bertscope, python, model, tokenizer, peers, inputsFile, lengths, runs, rounds, log }) {
  const perRound = Math.max(1, Math.ceil(runs / rounds));
  const engines = {
    bertscope: () => bertscopeBench(bertscope, model, tokenizer, lengths, perRound),
    ...Object.fromEntries(
      Object.entries(peers).map(([name, file]) => [name, () => json(python, [path.join(here, 'ort_native.py'), 'time', file, inputsFile, String(perRound)])]),
    ),
  };
  const names = Object.keys(engines);
  const times = {};
  const loadMs = {};
  let ortVersion = null;
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length];
      log?.(`native round ${round + 1}/${rounds}: ${name}`);
      const result = await engines[name]();
      collect(times, name, result);
      (loadMs[name] ??= []).push(result.load_ms);
      ortVersion ??= result.version ?? null;
    }
  }
  return { times, load_ms: loadMs, ort_version: ortVersion };
}
