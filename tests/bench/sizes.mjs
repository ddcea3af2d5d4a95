// Bytes a visitor downloads: raw and gzipped (zlib level 9) wasm and JS, and the model files.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

async function bytes(files) {
  let raw = 0;
  let gz = 0;
  for (const file of files) {
    const data = await readFile(file);
    raw += data.length;
    gz += gzipSync(data, { level: 9 }).length;
  }
  return { raw, gz, files: files.map((f) => path.basename(f)) };
}

/** The built page's assets (www/dist/assets), onnxruntime-web's wasm build, and the models. */
export async function sizes({ dist, ortDist, models }) {
  const assets = path.join(dist, 'assets');
  const names = await readdir(assets);
  const pick = (ext) => names.filter((n) => n.endsWith(ext)).map((n) => path.join(assets, n));
  const modelBytes = {};
  for (const [name, file] of Object.entries(models)) modelBytes[name] = (await stat(file)).size;
  return {
    bertscope: { wasm: await bytes(pick('.wasm')), js: await bytes(pick('.js')) },
    ort_web: {
      wasm: await bytes([path.join(ortDist, 'ort-wasm-simd-threaded.wasm')]),
      js: await bytes([path.join(ortDist, 'ort.wasm.min.mjs'), path.join(ortDist, 'ort-wasm-simd-threaded.mjs')]),
    },
    model_bytes: modelBytes,
  };
}
