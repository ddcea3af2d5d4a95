// The machine code V8's optimising tier (TurboFan) makes of one function of the wasm engine, and
// a tally of the instructions in each of its loops: for reading what a kernel's inner loop costs
// per step (docs/BENCHMARKS.md, "Where issue 15 ends"). Needs a build with function names
// (`BERTSCOPE_WASM_NAMES=1` when running `build_wasm`), copied somewhere:
//
//   PKG=DIR node tests/bench/wasm-code.mjs PATTERN [TOKENS=32] [--code]
//
// Lists the functions whose name matches PATTERN (a regular expression), runs the engine on a
// TOKENS-token sentence in a child Node until V8 has optimised the first of them, and prints each
// loop of that code that uses vector registers: its instructions by mnemonic. `--code` prints
// the whole disassembly too. MODEL and TOKENIZER choose the files (default: the default model).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { textOfTokens } from './common.js';

const models = process.env.BERTSCOPE_MODELS ?? new URL('../../../shared/models', import.meta.url).pathname;
const model = process.env.MODEL ?? `${models}/minilm-l6/model_weights_int8.onnx`;
const tokenizer = process.env.TOKENIZER ?? `${models}/minilm-l6/tokenizer.json`;
const pkg = process.env.PKG;

/** Runs the engine for 3 s (the child process, whose V8 prints the code). */
async function runEngine(tokens) {
  const glue = await import(`${pathToFileURL(`${pkg}/bertscope_wasm.js`)}`);
  await glue.default({ module_or_path: readFileSync(`${pkg}/bertscope_wasm_bg.wasm`) });
  const engine = new glue.Engine(new Uint8Array(readFileSync(model)), new Uint8Array(readFileSync(tokenizer)), false);
  engine.prepare(1);
  const text = textOfTokens(tokens);
  const until = performance.now() + 3000;
  while (performance.now() < until) engine.run([text]).free();
}

/** `[index, name]` of every function named in the wasm's name section. */
function functionNames(bytes) {
  let at = 8;
  const leb = () => {
    let value = 0;
    let shift = 0;
    let byte;
    do {
      byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  const text = (length) => new TextDecoder().decode(bytes.subarray(at, (at += length)));
  const names = [];
  while (at < bytes.length) {
    const id = bytes[at++];
    const end = leb() + at;
    if (id === 0 && text(leb()) === 'name') {
      while (at < end) {
        const kind = bytes[at++];
        const kindEnd = leb() + at;
        if (kind === 1) for (let n = leb(); n > 0; n--) names.push([leb(), text(leb())]);
        at = kindEnd;
      }
    }
    at = end;
  }
  return names;
}

/**
 * The innermost loops of a TurboFan listing (a backward branch and its target, with no other such
 * span inside) that use xmm registers.
 */
function vectorLoops(listing) {
  const lines = listing
    .split('\n')
    .map((line) => line.match(/^0x([0-9a-f]+)\s+[0-9a-f]+\s+[0-9a-f]+\s+(?:REX\.W )?(\S+)\s*(.*)$/))
    .filter(Boolean)
    .map(([, address, mnemonic, operands]) => ({ address: parseInt(address, 16), mnemonic, operands }));
  const spans = [];
  for (const line of lines) {
    const target = line.mnemonic.startsWith('j') && line.operands.match(/^0x([0-9a-f]+)/);
    if (target && parseInt(target[1], 16) < line.address) spans.push([parseInt(target[1], 16), line.address]);
  }
  const inside = ([from, to], [a, b]) => from <= a && b <= to && (from < a || b < to);
  return spans
    .filter((span) => !spans.some((other) => inside(span, other)))
    .map(([from, to]) => lines.filter((l) => l.address >= from && l.address <= to))
    .filter((body) => body.some((l) => l.operands.includes('xmm')));
}

if (process.argv[2] === '--run') {
  await runEngine(Number(process.argv[3]));
} else {
  const [pattern, tokens = '32'] = process.argv.slice(2).filter((arg) => arg !== '--code');
  if (!pkg || !pattern) throw new Error('usage: PKG=DIR node tests/bench/wasm-code.mjs PATTERN [TOKENS] [--code]');
  const matches = functionNames(readFileSync(`${pkg}/bertscope_wasm_bg.wasm`)).filter(([, name]) => name.match(pattern));
  if (matches.length === 0) throw new Error(`no function named like ${pattern} (a build with names is needed)`);
  for (const [index, name] of matches) console.log(`${index}\t${name}`);
  const [index] = matches[0];
  const child = spawnSync(
    process.execPath,
    [`--print-wasm-code-function-index=${index}`, fileURLToPath(import.meta.url), '--run', tokens],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  if (child.status !== 0) throw new Error(`the engine's run failed: ${child.stderr}`);
  const turbofan = child.stdout.split('--- WebAssembly code ---').find((code) => code.includes('compiler: TurboFan'));
  if (!turbofan) throw new Error(`V8 did not optimise function ${index} within 3 s of runs`);
  if (process.argv.includes('--code')) console.log(turbofan);
  for (const loop of vectorLoops(turbofan)) {
    const tally = {};
    for (const { mnemonic } of loop) tally[mnemonic] = (tally[mnemonic] ?? 0) + 1;
    const counts = Object.entries(tally).sort((a, b) => b[1] - a[1]);
    console.log(`\nloop of ${loop.length} instructions at 0x${loop[0].address.toString(16)}:`);
    console.log(counts.map(([mnemonic, n]) => `${mnemonic} ${n}`).join(', '));
  }
}
