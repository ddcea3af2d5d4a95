/** Errors in words: what the page, the widget and the worker show for anything thrown. */

/** The message of `e` if it is an `Error`, else `e` as text (errors may be thrown as any value). */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
