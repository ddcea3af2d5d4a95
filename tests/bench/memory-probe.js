// Import first: remembers every WebAssembly.Memory the page creates or instantiates, so a page can
// report its wasm linear memory (buffer.byteLength; it only grows, so the current size is the peak).
const memories = new Set();
const OriginalMemory = WebAssembly.Memory;

WebAssembly.Memory = class extends OriginalMemory {
  constructor(descriptor) {
    super(descriptor);
    memories.add(this);
  }
};

function remember(instance) {
  for (const value of Object.values(instance?.exports ?? {})) if (value instanceof OriginalMemory) memories.add(value);
}

for (const name of ['instantiate', 'instantiateStreaming']) {
  const original = WebAssembly[name];
  WebAssembly[name] = async function (...args) {
    const result = await original.apply(this, args);
    remember(result instanceof WebAssembly.Instance ? result : result.instance);
    for (const imports of Object.values(args[1] ?? {})) {
      for (const value of Object.values(imports ?? {})) if (value instanceof OriginalMemory) memories.add(value);
    }
    return result;
  };
}

/** Every wasm memory seen so far. */
export const wasmMemories = () => memories;
