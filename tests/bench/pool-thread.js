// One pool thread of engine-threads-worker.js: the threaded build on the engine's shared memory.
import { initSync, runPoolThread } from '/pkg-threads/bertscope_wasm.js';

self.addEventListener(
  'message',
  ({ data: { module, memory } }) => {
    try {
      initSync({ module, memory });
    } catch (e) {
      self.postMessage({ ready: false, error: e instanceof Error ? e.message : String(e) });
      return;
    }
    self.postMessage({ ready: true });
    runPoolThread();
  },
  { once: true },
);
