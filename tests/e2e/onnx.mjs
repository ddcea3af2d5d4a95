// Writes small ONNX models for tests, straight in protobuf wire format (field numbers from
// onnx.proto), so a test can make the exact hostile graph it needs without Python.

const FLOAT = 1;
const INT64 = 7;

function varint(value) {
  let n = BigInt(value);
  if (n < 0n) n += 1n << 64n; // int64 fields: two's complement, ten bytes
  const out = [];
  do {
    const low = Number(n & 0x7fn);
    n >>= 7n;
    out.push(n === 0n ? low : low | 0x80);
  } while (n !== 0n);
  return out;
}

/** A length-delimited field. */
function bytesField(field, payload) {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  return Buffer.concat([Buffer.from([...varint((field << 3) | 2), ...varint(body.length)]), body]);
}

function intField(field, value) {
  return Buffer.from([...varint(field << 3), ...varint(value)]);
}

/** A tensor's value info: element type and dimensions (numbers, or strings for symbolic ones). */
function valueInfo(name, elemType, dims) {
  const shape = Buffer.concat(
    dims.map((d) => bytesField(1, typeof d === 'string' ? bytesField(2, d) : intField(1, d))),
  );
  const tensorType = Buffer.concat([intField(1, elemType), bytesField(2, shape)]);
  return Buffer.concat([bytesField(1, name), bytesField(2, bytesField(1, tensorType))]);
}

/** A float initializer filled with `value`, or an int64 one from `values`. */
function floatTensor(name, dims, value) {
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = Buffer.alloc(count * 4);
  for (let i = 0; i < count; i++) raw.writeFloatLE(value, i * 4);
  return Buffer.concat([...dims.map((d) => intField(1, d)), intField(2, FLOAT), bytesField(8, name), bytesField(9, raw)]);
}

function int64Tensor(name, values) {
  const raw = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), i * 8));
  return Buffer.concat([intField(1, values.length), intField(2, INT64), bytesField(8, name), bytesField(9, raw)]);
}

function intsAttribute(name, values) {
  // AttributeProto { name = 1, ints = 8, type = 20 (INTS = 7) }
  return Buffer.concat([bytesField(1, name), ...values.map((v) => intField(8, v)), intField(20, 7)]);
}

function intAttribute(name, value) {
  // AttributeProto { name = 1, i = 3, type = 20 (INT = 2) }
  return Buffer.concat([bytesField(1, name), intField(3, value), intField(20, 2)]);
}

function node(opType, inputs, outputs, attributes = []) {
  return Buffer.concat([
    ...inputs.map((i) => bytesField(1, i)),
    ...outputs.map((o) => bytesField(2, o)),
    bytesField(4, opType),
    ...attributes.map((a) => bytesField(5, a)),
  ]);
}

/**
 * A one-layer, one-head encoder as the engine sees one: `input_ids` and `attention_mask` in, a
 * word-embedding table of `vocab` rows (`hidden`), a query/key product feeding a Softmax
 * (`attention`), then `nodes` ending in `last_hidden_state`, with their `initializers`.
 */
function oneHeadEncoder({ name, vocab, nodes, initializers }) {
  const head = [
    node('Gather', ['embeddings', 'input_ids'], ['hidden']),
    node('MatMul', ['hidden', 'query_weight'], ['query']),
    node('Transpose', ['query'], ['key'], [intsAttribute('perm', [0, 2, 1])]),
    node('MatMul', ['query', 'key'], ['scores']),
    node('Unsqueeze', ['scores', 'head_axis'], ['scores_by_head']),
    node('Softmax', ['scores_by_head'], ['attention'], [intAttribute('axis', -1)]),
  ];
  const headWeights = [floatTensor('embeddings', [vocab, 1], 0.01), floatTensor('query_weight', [1, 1], 1), int64Tensor('head_axis', [1])];
  return model({
    name,
    nodes: [...head, ...nodes],
    initializers: [...headWeights, ...initializers],
    inputs: [valueInfo('input_ids', INT64, ['batch', 'sequence']), valueInfo('attention_mask', INT64, ['batch', 'sequence'])],
    outputs: [valueInfo('last_hidden_state', FLOAT, ['batch', 'sequence', 1])],
  });
}

/**
 * A graph that looks like a one-layer, one-head BERT encoder to the engine (see `oneHeadEncoder`),
 * but whose output also depends on five `side`×`side` float matrices alive at once: with `side` =
 * 16,000 that is 5.1 GB, more than a 32-bit WebAssembly memory can hold. The file itself stays
 * small (the big matrices are products of two thin constant ones).
 */
export function memoryHogModel({ vocab = 30522, side = 16000 } = {}) {
  const nodes = [
    // Five side×side matrices, each needed until the final Sum: none can be freed or reused early.
    node('MatMul', ['tall', 'wide'], ['m1']),
    node('Add', ['m1', 'm1'], ['m2']),
    node('Mul', ['m1', 'm2'], ['m3']),
    node('Add', ['m2', 'm3'], ['m4']),
    node('Mul', ['m3', 'm4'], ['m5']),
    node('Sum', ['m1', 'm2', 'm3', 'm4', 'm5'], ['all']),
    node('ReduceSum', ['all'], ['total']),
    node('Add', ['hidden', 'total'], ['last_hidden_state']),
  ];
  const initializers = [floatTensor('tall', [side, 1], 1e-4), floatTensor('wide', [1, side], 1e-4)];
  return oneHeadEncoder({ name: 'memory_hog', vocab, nodes, initializers });
}

/**
 * A graph that loads as a one-layer, one-head BERT encoder (see `oneHeadEncoder`) and crashes the
 * engine when it runs: it broadcasts one number computed from the sentence into `side`×`side`
 * float matrices, three of them alive at once (with `side` = 20,000, 4.8 GB, more than a 32-bit
 * WebAssembly memory holds). They depend on the input, so nothing big is made while loading.
 */
export function runCrashModel({ vocab = 30522, side = 20000 } = {}) {
  const nodes = [
    node('ReduceSum', ['hidden'], ['seed']),
    node('Expand', ['seed', 'square'], ['m1']),
    node('Add', ['m1', 'm1'], ['m2']),
    node('Mul', ['m1', 'm2'], ['m3']),
    node('Sum', ['m1', 'm2', 'm3'], ['all']),
    node('ReduceSum', ['all'], ['total']),
    node('Add', ['hidden', 'total'], ['last_hidden_state']),
  ];
  return oneHeadEncoder({ name: 'run_crash', vocab, nodes, initializers: [int64Tensor('square', [1, side, side])] });
}

/**
 * A graph that runs as a one-layer, one-head BERT-family encoder (see `oneHeadEncoder`) whose
 * attention mixes the embeddings, but has no output projection, residual sum or LayerNorm: its
 * attention can be shown, the context-mixing measures cannot be computed.
 */
export function attentionOnlyModel({ vocab = 30522 } = {}) {
  const nodes = [
    node('Unsqueeze', ['hidden', 'head_axis'], ['values']),
    node('MatMul', ['attention', 'values'], ['context_by_head']),
    node('Squeeze', ['context_by_head', 'head_axis'], ['context']),
    node('Add', ['hidden', 'context'], ['last_hidden_state']),
  ];
  return oneHeadEncoder({ name: 'attention_only', vocab, nodes, initializers: [] });
}

/**
 * A one-layer, one-head BERT-family encoder (as `attentionOnlyModel`) with one more node of an ONNX
 * op tract has no builder for (`Det`, reading the hidden states): the engine must name the op.
 */
export function unsupportedOpModel({ vocab = 30522 } = {}) {
  const nodes = [
    node('Unsqueeze', ['hidden', 'head_axis'], ['values']),
    node('MatMul', ['attention', 'values'], ['context_by_head']),
    node('Squeeze', ['context_by_head', 'head_axis'], ['context']),
    node('Det', ['hidden'], ['determinant']),
    node('Add', ['hidden', 'context'], ['last_hidden_state']),
  ];
  return oneHeadEncoder({ name: 'unsupported_op', vocab, nodes, initializers: [] });
}

/**
 * A decoder-style graph (GPT exports take `position_ids` beside `input_ids` and `attention_mask`):
 * valid ONNX, but not a BERT-family encoder.
 */
export function decoderStyleModel() {
  const inputs = ['input_ids', 'attention_mask', 'position_ids'];
  return model({
    name: 'decoder',
    nodes: [node('Gather', ['embeddings', 'input_ids'], ['logits'])],
    initializers: [floatTensor('embeddings', [8, 1], 0.5)],
    inputs: inputs.map((name) => valueInfo(name, INT64, ['batch', 'sequence'])),
    outputs: [valueInfo('logits', FLOAT, ['batch', 'sequence', 1])],
  });
}

/** Serialises a ModelProto { ir_version = 1, graph = 7, opset_import = 8 (opset 13) }. */
function model({ name, nodes, initializers, inputs, outputs }) {
  const graph = Buffer.concat([
    ...nodes.map((n) => bytesField(1, n)),
    bytesField(2, name),
    ...initializers.map((t) => bytesField(5, t)),
    ...inputs.map((i) => bytesField(11, i)),
    ...outputs.map((o) => bytesField(12, o)),
  ]);
  const opset = Buffer.concat([bytesField(1, ''), intField(2, 13)]);
  return Buffer.concat([intField(1, 7), bytesField(7, graph), bytesField(8, opset)]);
}
