import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // The wasm engine is one large asset by nature; do not warn about it.
    chunkSizeWarningLimit: 20_000,
    assetsInlineLimit: 0,
  },
  server: { fs: { strict: true } },
});
