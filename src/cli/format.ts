/** Plain-text formatting of the command line's human output: numbers, sizes, durations, tables. */

const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A count with thousands separators: `12,345`. */
export function formatCount(n: number): string {
  return INTEGER.format(n);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** A size in bytes, in binary units with one decimal from KiB on: `183 B`, `4.9 KiB`, `1.2 GiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * A duration in the two largest units that apply: `850 ms`, `12s`, `9m 58s`, `2h 5m`, `3d 4h`.
 * Below a second, milliseconds; from a second on, whole seconds rounded down.
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const parts: [number, string][] = [
    [Math.floor(ms / 86_400_000), 'd'],
    [Math.floor(ms / 3_600_000) % 24, 'h'],
    [Math.floor(ms / 60_000) % 60, 'm'],
    [Math.floor(ms / 1000) % 60, 's'],
  ];
  const first = parts.findIndex(([amount]) => amount > 0);
  return parts
    .slice(first, first + 2)
    .filter(([amount], i) => i === 0 || amount > 0)
    .map(([amount, unit]) => `${amount}${unit}`)
    .join(' ');
}

/** A ratio as a percentage with one decimal: `95.7%`; `n/a` when there is nothing to divide. */
export function formatPercent(part: number, whole: number): string {
  return whole === 0 ? 'n/a' : `${((part / whole) * 100).toFixed(1)}%`;
}

/** `1 key`, `2 keys`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** How a column of a {@link formatTable} is aligned. */
export type Align = 'left' | 'right';

/**
 * Rows of cells as lines of text, each column as wide as its widest cell and two spaces apart;
 * the first row is the header. `style` decorates a padded cell (colour) without changing widths.
 */
export function formatTable(
  rows: readonly (readonly string[])[],
  align: readonly Align[],
  style: (text: string, row: number, column: number) => string = (text) => text,
): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, column) => {
      widths[column] = Math.max(widths[column] ?? 0, cell.length);
    });
  }
  return rows.map((row, r) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        const padded = align[column] === 'right' ? cell.padStart(width) : cell.padEnd(width);
        return style(padded, r, column);
      })
      .join('  ')
      .trimEnd(),
  );
}
