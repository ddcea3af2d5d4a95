/** Sizes as the views write them. */

/** `bytes` in megabytes (10⁶ bytes), one decimal, with the unit: "23.0 MB". */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
