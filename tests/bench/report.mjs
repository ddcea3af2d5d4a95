// Turns the measurements into target/bench/report.json (the issue's shape, plus `details`) and a table.
import { formatPhases } from './coldstart.mjs';
import { summarize } from './common.js';

const ratio = (a, b) => (a != null && b != null && b > 0 ? a / b : null);

/** `{n: {bertscope_ms, <peerKey>, ratio}}` from per-engine time lists. */
function comparison(times, lengths, ours, peer, peerKey) {
  return Object.fromEntries(lengths.map((n) => {
    const a = summarize(times[ours]?.[n]).median_ms;
    const b = summarize(times[peer]?.[n]).median_ms;
    return [n, { bertscope_ms: a, [peerKey]: b, ratio: ratio(a, b) }];
  }));
}

/** Median and p90 of every engine at every length. */
const percentiles = (times) =>
  Object.fromEntries(Object.entries(times).map(([engine, byLength]) => [
    engine, Object.fromEntries(Object.entries(byLength).map(([n, t]) => [n, summarize(t)])),
  ]));

/** `{n: {plain_ms, norm_ms, norm_ratio, alti_ms, alti_ratio}}`: the mixing measures against the plain run. */
function mixingCost(times, lengths) {
  return Object.fromEntries(lengths.map((n) => {
    const plain = summarize(times.bertscope?.[n]).median_ms;
    const norm = summarize(times.bertscope_norm?.[n]).median_ms;
    const alti = summarize(times.bertscope_alti?.[n]).median_ms;
    return [n, { plain_ms: plain, norm_ms: norm, norm_ratio: ratio(norm, plain), alti_ms: alti, alti_ratio: ratio(alti, plain) }];
  }));
}

const maxMean = (f) => ({ max: f?.max ?? null, mean: f?.mean ?? null });

/** The DistilBERT-base-size session's details: latency percentiles, load times, memory, agreement. */
const baseDetails = (base) => (base ? {
  latency_ms: percentiles(base.times),
  load_ms: base.load_ms,
  wasm_memory: base.memory,
  bertscope_vs_onnxruntime_same_file: maxMean(base.fidelity.bertscope),
} : null);

/** The threaded session's comparison, `{threads, n: {bertscope_ms, ort_web_ms, ratio}}`. */
const threadedComparison = (threaded, lengths) =>
  threaded ? { threads: threaded.threads, ...comparison(threaded.times, lengths, 'bertscope', 'ort_web_int8', 'ort_web_ms') } : null;

export function buildReport({ lengths, native, browser, base = null, threaded = null, cold, bytes, meta }) {
  const peak = browser.memory.bertscope?.after_512_bytes ?? null;
  return {
    chromium: comparison(browser.times, lengths, 'bertscope', 'ort_web_int8', 'ort_web_ms'),
    chromium_distilbert_base: base ? comparison(base.times, lengths, 'bertscope', 'ort_web_int8', 'ort_web_ms') : null,
    chromium_threads: threadedComparison(threaded, lengths),
    chromium_same_file: comparison(browser.times, lengths, 'bertscope', 'ort_web_same_file', 'ort_web_ms'),
    chromium_mixing: mixingCost(browser.times, lengths),
    native: comparison(native.times, lengths, 'bertscope', 'ort_int8', 'ort_ms'),
    fidelity: { bertscope: maxMean(browser.fidelity.bertscope), ort_web_int8: maxMean(browser.fidelity.ort_web_int8) },
    cold_start_cached_ms: cold.cached_ms,
    cold_start_first_ms: cold.first_ms,
    cold_start_returning_ms: cold.returning?.returning_ms ?? null,
    cold_start_returning_isolated_ms: cold.returning_isolated?.returning_ms ?? null,
    wasm_gz_bytes: bytes.bertscope.wasm.gz,
    js_gz_bytes: bytes.bertscope.js.gz,
    peak_wasm_memory_bytes: peak,
    details: {
      ...meta,
      native_same_file: comparison(native.times, lengths, 'bertscope', 'ort_same_file', 'ort_ms'),
      latency_ms: { chromium: percentiles(browser.times), native: percentiles(native.times) },
      load_ms: { chromium: browser.load_ms, native: native.load_ms },
      fidelity: browser.fidelity,
      cold_start: cold,
      bytes,
      wasm_memory: browser.memory,
      distilbert_base: baseDetails(base),
      threads: threaded ? { latency_ms: percentiles(threaded.times), load_ms: threaded.load_ms, wasm_memory: threaded.memory } : null,
    },
  };
}

const f = (v, digits = 1) => (v == null || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits));
const mb = (v) => (v == null ? 'n/a' : `${(v / 1e6).toFixed(2)} MB`);
const cell = (p) => `${f(p?.median_ms)} (${f(p?.p90_ms)})`;

function table(title, header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((v, i) => String(v).padStart(widths[i])).join(' | ');
  return [title, line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

/** The printed summary. */
export function formatReport(report, lengths) {
  const d = report.details;
  const lat = d.latency_ms;
  const out = [];
  out.push(`bertscope benchmark, ${d.date}: ${d.machine}; ${d.chromium}; onnxruntime-web ${d.ort_web_version}, onnxruntime ${d.ort_version}`);
  out.push(`${d.runs} timed runs per engine and length, in ${d.rounds} alternating rounds; bertscope runs ${d.bertscope_file} with every layer's attention, the peers plain last_hidden_state`);
  out.push('');
  out.push(table('Chromium (wasm, 1 thread), median (p90) ms; ratio = bertscope / peer',
    ['tokens', 'bertscope', `ort-web ${d.peer_file}`, 'ratio', `ort-web ${d.bertscope_file}`, 'ratio'],
    lengths.map((n) => [n, cell(lat.chromium.bertscope?.[n]), cell(lat.chromium.ort_web_int8?.[n]), f(report.chromium[n].ratio, 2),
      cell(lat.chromium.ort_web_same_file?.[n]), f(report.chromium_same_file[n].ratio, 2)])));
  out.push('');
  const base = d.distilbert_base;
  if (base) {
    const files = d.distilbert_base_files;
    const lb = base.latency_ms;
    out.push(table(`DistilBERT-base size in Chromium (wasm, 1 thread), median (p90) ms; bertscope ${files.bertscope}, ratio = bertscope / ort-web`,
      ['tokens', 'bertscope', `ort-web ${files.peer}`, 'ratio'],
      lengths.map((n) => [n, cell(lb.bertscope?.[n]), cell(lb.ort_web_int8?.[n]), f(report.chromium_distilbert_base[n].ratio, 2)])));
    const m = base.wasm_memory;
    out.push(`  wasm memory: bertscope ${mb(m.bertscope?.after_load_bytes)} after load, ${mb(m.bertscope?.after_512_bytes)} after the runs incl. ${Math.max(...lengths)} tokens; ` +
      `ort-web ${mb(m.ort_web_int8?.after_load_bytes)} / ${mb(m.ort_web_int8?.after_512_bytes)}. Load + optimise: bertscope ${f(base.load_ms.bertscope, 0)} ms, ort-web ${f(base.load_ms.ort_web_int8, 0)} ms. ` +
      `Attention vs onnxruntime on the same file: max ${f(base.bertscope_vs_onnxruntime_same_file.max, 6)}, mean ${f(base.bertscope_vs_onnxruntime_same_file.mean, 7)}`);
    out.push('');
  }
  const threads = report.chromium_threads;
  if (threads) {
    const lt = d.threads.latency_ms;
    out.push(table(`Chromium, cross-origin isolated, ${threads.threads} threads each, median (p90) ms; ratio = bertscope / ort-web`,
      ['tokens', 'bertscope (threaded build)', `ort-web ${d.peer_file}`, 'ratio'],
      lengths.map((n) => [n, cell(lt.bertscope?.[n]), cell(lt.ort_web_int8?.[n]), f(threads[n].ratio, 2)])));
    out.push('');
  }
  out.push(table('Context mixing in Chromium, median (p90) ms; ratio = with the measures / plain run',
    ['tokens', 'plain', 'attention x value norm', 'ratio', 'norm + ALTI + ALTI rollout', 'ratio'],
    lengths.map((n) => [n, cell(lat.chromium.bertscope?.[n]), cell(lat.chromium.bertscope_norm?.[n]), f(report.chromium_mixing[n].norm_ratio, 2),
      cell(lat.chromium.bertscope_alti?.[n]), f(report.chromium_mixing[n].alti_ratio, 2)])));
  out.push('');
  out.push(table('Native (1 thread), median (p90) ms; ratio = bertscope / onnxruntime',
    ['tokens', 'bertscope', `onnxruntime ${d.peer_file}`, 'ratio', `onnxruntime ${d.bertscope_file}`, 'ratio'],
    lengths.map((n) => [n, cell(lat.native.bertscope?.[n]), cell(lat.native.ort_int8?.[n]), f(report.native[n].ratio, 2),
      cell(lat.native.ort_same_file?.[n]), f(d.native_same_file[n].ratio, 2)])));
  out.push('');
  const fid = d.fidelity;
  out.push(table(`Attention vs PyTorch fp32 (${d.fidelity_reference}), ${fid.bertscope?.sentences?.length ?? 0} public sentences; ${d.fidelity_method}`,
    ['engine', 'file', 'max abs', 'mean abs'],
    [['bertscope (wasm)', d.bertscope_file, f(fid.bertscope?.max, 4), f(fid.bertscope?.mean, 5)],
      ['onnxruntime-web', d.peer_file, f(fid.ort_web_int8?.max, 4), f(fid.ort_web_int8?.mean, 5)],
      ['onnxruntime-web', d.bertscope_file, f(fid.ort_web_same_file?.max, 4), f(fid.ort_web_same_file?.mean, 5)]]));
  out.push('');
  const cs = d.cold_start;
  out.push(`Cold start of www/dist to the first drawn heatmap (median of ${cs.first.length}): model in the Cache API ${f(report.cold_start_cached_ms, 0)} ms ` +
    `(model requests: ${cs.cached.map((v) => v.model_requests).join(',')}), first visit from localhost ${f(report.cold_start_first_ms, 0)} ms`);
  if (cs.phases_cached?.length) out.push('  model cached, phase by phase (median start and ms from navigation start):', ...formatPhases(cs.phases_cached).map((line) => `  ${line}`));
  for (const r of [cs.returning, cs.returning_isolated].filter(Boolean)) {
    out.push(`A returning visitor (a kept browser profile${r.isolated ? ', cross-origin isolated: the threaded build' : ', plain host'}, median of ${r.returning.length}): ${f(r.returning_ms, 0)} ms (its first visit ${f(r.first_ms, 0)} ms)`);
    if (r.phases_returning?.length) out.push(...formatPhases(r.phases_returning).map((line) => `  ${line}`));
  }
  const b = d.bytes;
  out.push(`Bytes: bertscope wasm ${mb(b.bertscope.wasm.raw)} raw / ${mb(b.bertscope.wasm.gz)} gzip, JS ${mb(b.bertscope.js.gz)} gzip; ` +
    `onnxruntime-web wasm ${mb(b.ort_web.wasm.raw)} / ${mb(b.ort_web.wasm.gz)} gzip, JS ${mb(b.ort_web.js.gz)} gzip; ` +
    `models: ${Object.entries(b.model_bytes).map(([k, v]) => `${k} ${mb(v)}`).join(', ')}`);
  const m = d.wasm_memory;
  out.push(`Wasm memory (linear memory byteLength): bertscope ${mb(m.bertscope?.after_load_bytes)} after load, ${mb(m.bertscope?.after_512_bytes)} after the runs incl. 512 tokens; ` +
    `onnxruntime-web ${d.peer_file} ${mb(m.ort_web_int8?.after_load_bytes)} / ${mb(m.ort_web_int8?.after_512_bytes)}, ${d.bertscope_file} ${mb(m.ort_web_same_file?.after_load_bytes)} / ${mb(m.ort_web_same_file?.after_512_bytes)}`);
  const l = d.load_ms;
  out.push(`Load + optimise (median): bertscope wasm ${f(l.chromium.bertscope, 0)} ms (+ ${f(l.chromium.bertscope_wasm_compile, 0)} ms wasm compile), ` +
    `ort-web ${f(l.chromium.ort_web_int8, 0)} / ${f(l.chromium.ort_web_same_file, 0)} ms; native bertscope ${f(summarize(l.native.bertscope).median_ms, 0)} ms, ` +
    `onnxruntime ${f(summarize(l.native.ort_int8).median_ms, 0)} / ${f(summarize(l.native.ort_same_file).median_ms, 0)} ms`);
  return out.join('\n');
}
