import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Build settings both builds share. */
const common = {
  target: 'es2022',
  // The wasm engine is one large asset by nature; do not warn about it.
  chunkSizeWarningLimit: 20_000,
  assetsInlineLimit: 0,
} as const;

/** Copies `files` (paths relative to www/) into the build unchanged. */
function copyVerbatim(files: readonly string[]): Plugin {
  return {
    name: 'bertscope-copy-verbatim',
    generateBundle() {
      for (const fileName of files) this.emitFile({ type: 'asset', fileName, source: readFileSync(`${root}${fileName}`) });
    },
  };
}

// `vite build` builds the explorer page into dist/ (emptying it first); `vite build --mode widget`
// then adds the embeddable widget: ONE module file, dist/bert-attention.js (its name stable, so
// authors can link it), the same wasm asset as the page (same content hash, so one file), and the
// example blog post, copied as written (it includes the widget exactly as an author would).
export default defineConfig(({ mode }) =>
  mode === 'widget'
    ? {
        base: './',
        publicDir: false,
        build: {
          ...common,
          outDir: 'dist',
          emptyOutDir: false,
          copyPublicDir: false,
          modulePreload: false,
          rolldownOptions: {
            input: { 'bert-attention': `${root}src/widget/index.ts` },
            output: { entryFileNames: '[name].js', assetFileNames: 'assets/[name]-[hash][extname]' },
          },
        },
        plugins: [copyVerbatim(['example-post.html', 'example-post.css', 'favicon.svg'])],
      }
    : {
        base: './',
        worker: { format: 'es' },
        build: { ...common, outDir: 'dist', emptyOutDir: true },
        server: { fs: { strict: true } },
      },
);
