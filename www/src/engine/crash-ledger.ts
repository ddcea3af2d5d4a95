/**
 * Which models stopped the engine, and which one to restart with. Crashes are counted per model
 * (never reset by another model loading): a model that stopped the engine is not loaded again
 * automatically, except the default one, which is retried a few times (the sentences, not the
 * model, may have been too much) before the page gives up.
 */

/** A model as the engine downloads it: its ONNX file and its tokenizer.json. */
export interface ModelFiles {
  modelUrl: string;
  tokenizerUrl: string;
}

/** Crashes after which even the default model is not loaded again. */
export const MAX_DEFAULT_CRASHES = 3;

/** One key per model and tokenizer pair. */
export function modelKey(files: ModelFiles): string {
  return JSON.stringify([files.modelUrl, files.tokenizerUrl]);
}

/** Whether `a` and `b` are the same model and tokenizer (either may be absent). */
export function sameModel(a: ModelFiles | null | undefined, b: ModelFiles | null | undefined): boolean {
  return !!a && !!b && modelKey(a) === modelKey(b);
}

/** The short name of `files`' model for messages: its file name, or its address if it has none. */
export function modelFileName(files: ModelFiles): string {
  try {
    const url = new URL(files.modelUrl);
    const last = url.pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last) : url.href;
  } catch {
    return files.modelUrl;
  }
}

/** Per model, how often it stopped the engine and why; and the last model that ran. */
export class CrashLedger {
  private readonly crashes = new Map<string, { count: number; message: string }>();
  private lastWorked: ModelFiles | null = null;

  /** `defaultModel`: the model a restart falls back to (none: only the last that worked). */
  constructor(private readonly defaultModel: ModelFiles | null = null) {}

  /** Counts a crash of `files` (null: no known model was in the engine); returns its count. */
  record(files: ModelFiles | null, message: string): number {
    const key = files ? modelKey(files) : '';
    const count = (this.crashes.get(key)?.count ?? 0) + 1;
    this.crashes.set(key, { count, message });
    if (sameModel(files, this.lastWorked)) this.lastWorked = null;
    return count;
  }

  /** How often `files` (null: no known model) stopped the engine. */
  count(files: ModelFiles | null): number {
    return this.crashes.get(files ? modelKey(files) : '')?.count ?? 0;
  }

  /** `files` loaded and ran: the model to go back to after another one crashes. */
  worked(files: ModelFiles): void {
    this.lastWorked = files;
  }

  /** Why `files` may not be loaded automatically, in words; null if it may. */
  refusal(files: ModelFiles): string | null {
    const crash = this.crashes.get(modelKey(files));
    if (!crash) return null;
    const limit = sameModel(files, this.defaultModel) ? MAX_DEFAULT_CRASHES : 1;
    if (crash.count < limit) return null;
    const times = crash.count === 1 ? '' : ` ${crash.count} times`;
    return `${modelFileName(files)} stopped the engine${times} (${crash.message}), so it is not loaded again; reload the page to try it again`;
  }

  /** The model to restart with: the last that worked, else the default, if it may be loaded; else null. */
  restartTarget(): ModelFiles | null {
    for (const candidate of [this.lastWorked, this.defaultModel]) {
      if (candidate && this.refusal(candidate) === null) return candidate;
    }
    return null;
  }
}
