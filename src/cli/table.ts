/** Plain-text tables for the client commands: columns padded to their widest cell, the last one left ragged. */
export function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((x, c) => (c === cells.length - 1 ? x : x.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}
