/**
 * What the views can draw: raw attention, or one of the context-mixing measures the engine
 * computes (norm-based attention, ALTI, ALTI through the layers). Names, legends and the
 * plain-words explanation of each; the numbers themselves are read in mixing.ts.
 */

/** The measures, in the order the control lists them; also their URL and attribute values. */
export const MEASURES = ['raw', 'norm', 'alti', 'alti-rollout'] as const;

/** One of `MEASURES`. */
export type Measure = (typeof MEASURES)[number];

/** How a measure is named and explained. */
export interface MeasureInfo {
  /** The control's option text, and the name used in sentences ("attention × value norm"). */
  label: string;
  /** A short name for strip rows, read-outs and file descriptions ("norm share"). */
  short: string;
  /** Whether each head has its own values (false: one set per layer). */
  perHead: boolean;
  /** What the colour scale shows. */
  legend: string;
  /** One paragraph in plain words. */
  explanation: string;
  /** Where the measure comes from. */
  reference: string;
}

/** Every measure's names and explanation. */
export const MEASURE_INFO: Readonly<Record<Measure, MeasureInfo>> = {
  raw: {
    label: 'raw attention',
    short: 'raw',
    perHead: true,
    legend: 'attention weight',
    explanation:
      'The weights each head’s softmax gives from a token (a row) to every token (the columns), exactly as the model ' +
      'computes them; each row sums to 1. They say where a head looks, not how much it takes in: a token can draw most ' +
      'of the attention and still pass on almost nothing, if the vector it sends is short.',
    reference: 'Vaswani et al., NeurIPS 2017, “Attention Is All You Need”.',
  },
  norm: {
    label: 'attention × value norm',
    short: 'norm share',
    perHead: true,
    legend: 'row share, N_ij / Σ_k N_ik',
    explanation:
      'What a head really moves from token j into token i is the weight times the vector j sends (its value, through ' +
      'the output projection). The length of that product, N_ij, measures how much arrives; for a layer’s heads together, ' +
      'the length of their summed vectors. Tokens that draw a lot of attention but send short vectors, as [CLS] and ' +
      '[SEP] often do, shrink. The views show each row’s share, N_ij / Σ_k N_ik; the JSON and CSV exports also give the ' +
      'lengths N_ij themselves (column “value”).',
    reference: 'Kobayashi et al., EMNLP 2020, “Attention is Not Only a Weight: Analyzing Transformers with Vector Norms”.',
  },
  alti: {
    label: 'ALTI',
    short: 'ALTI',
    perHead: false,
    legend: 'ALTI (rows sum to 1)',
    explanation:
      'A layer’s output for token i is a sum of one piece per input token j (all heads’ weighted vectors from j, plus ' +
      'token i itself through the residual connection), normalised by the layer norm. ALTI asks how close each piece ' +
      'alone brings the output to its real value (by L1 distance), so the token’s own residual counts and the layer ' +
      'norm’s scaling is respected. Each row sums to 1. It describes the layer as a whole: there are no per-head values.',
    reference: 'Ferrando et al., EMNLP 2022, “Measuring the Mixing of Contextual Information in the Transformer”.',
  },
  'alti-rollout': {
    label: 'ALTI through layers',
    short: 'ALTI rollout',
    perHead: false,
    legend: 'ALTI rollout (rows sum to 1)',
    explanation:
      'The ALTI matrices of the first layer up to the chosen one, multiplied together: how much of each input token ' +
      'ends up in a token’s vector after that layer. It is attention rollout (Abnar & Zuidema) with ALTI in place of ' +
      'raw attention, and without the added identity, since ALTI already counts the residual. Each row sums to 1.',
    reference:
      'Ferrando et al., EMNLP 2022, “Measuring the Mixing of Contextual Information in the Transformer”; rollout: ' +
      'Abnar & Zuidema, ACL 2020, “Quantifying Attention Flow in Transformers”.',
  },
};

/** `text` as a measure, or null when it names none. */
export function parseMeasure(text: string | null | undefined): Measure | null {
  const value = text?.trim().toLowerCase() ?? '';
  return (MEASURES as readonly string[]).includes(value) ? (value as Measure) : null;
}

/**
 * What the engine computes besides attention: nothing, the norm-based measures (cheap), or those
 * and ALTI with ALTI rollout (about `n²·heads·width` per layer: seconds at 512 tokens).
 */
export type MixingNeed = 'none' | 'norm' | 'alti';

const NEED_RANK: Record<MixingNeed, number> = { none: 0, norm: 1, alti: 2 };

/** Every need, widest first (a run made for one serves those after it). */
export const MIXING_NEEDS: readonly MixingNeed[] = ['alti', 'norm', 'none'];

/** What `measure` needs the engine to compute. */
export function mixingNeed(measure: Measure): MixingNeed {
  if (measure === 'raw') return 'none';
  return measure === 'norm' ? 'norm' : 'alti';
}

/** The larger of two needs. */
export function widerNeed(a: MixingNeed, b: MixingNeed): MixingNeed {
  return NEED_RANK[a] >= NEED_RANK[b] ? a : b;
}

/** Whether a run made for `made` has what `wanted` needs. */
export function serves(made: MixingNeed, wanted: MixingNeed): boolean {
  return NEED_RANK[made] >= NEED_RANK[wanted];
}

