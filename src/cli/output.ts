/**
 * The only module that writes to stdout outside the protocol transport. In `serve` nothing
 * here is called: stdout belongs to JSON-RPC.
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

/**
 * The width a table must fit: `$COLUMNS` when set (a script or a test can pin it), else the
 * terminal's, else none (piped output is not cut).
 */
export function outputWidth(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const columns = Number.parseInt(env.COLUMNS ?? '', 10);
  if (Number.isInteger(columns) && columns > 0) return columns;
  return process.stdout.isTTY ? process.stdout.columns : undefined;
}

const GAP = 2;
/** No column is cut below this (a header still reads). */
const MIN_COLUMN = 6;

/**
 * A plain text table: columns padded to the widest cell, the last column left ragged. With a
 * width, the widest columns are cut (ending in `…`) until every line fits.
 */
export function formatTable(headers: string[], rows: string[][], width?: number): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  if (width !== undefined) {
    const total = () => widths.reduce((sum, w) => sum + w, 0) + GAP * (widths.length - 1);
    // The last column (a description, an error) gives way first, then the widest of the rest.
    const last = widths.length - 1;
    widths[last] = Math.max(Math.min(widths[last]!, MIN_COLUMN), widths[last]! - (total() - width));
    while (total() > width) {
      const widest = widths.indexOf(Math.max(...widths));
      if (widths[widest]! <= MIN_COLUMN) break;
      widths[widest] = Math.max(MIN_COLUMN, widths[widest]! - (total() - width));
    }
  }
  const cut = (cell: string, w: number) => (cell.length > w ? `${cell.slice(0, Math.max(0, w - 1))}…` : cell);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const cell = cut(c, widths[i]!);
        return i === cells.length - 1 ? cell : cell.padEnd(widths[i]!);
      })
      .join(' '.repeat(GAP))
      .trimEnd();
  // Too many columns for the width even at their narrowest: the line itself is cut.
  const fit = (text: string) =>
    width !== undefined && [...text].length > width ? `${[...text].slice(0, width - 1).join('')}…` : text;
  return [line(headers), ...rows.map(line)].map(fit);
}

export function printTable(headers: string[], rows: string[][]): void {
  for (const line of formatTable(headers, rows, outputWidth())) printLine(line);
}

/** Warnings and notes of a one-shot command: stderr, never stdout. */
export function printNote(text: string): void {
  process.stderr.write(`mcp-coordinator: ${text}\n`);
}
