const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * `500ms`, `30s`, `5m`, `1h`, `2d` → milliseconds; with `bareSeconds`, a plain number counts as seconds.
 * Undefined when the text is not a duration (callers word the error for their flag or parameter).
 */
export function parseDurationMs(text: string, opts: { readonly bareSeconds?: boolean } = {}): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (m === null || (m[2] === undefined && opts.bareSeconds !== true)) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS]);
}
