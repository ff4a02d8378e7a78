/** Excel reads a UTF-8 file as the local code page unless it starts with a byte order mark. */
const BOM = '\uFEFF';

export type Cell = string | number | boolean | undefined;

/** Text a spreadsheet would run as a formula (OWASP, CSV injection): customers write chat records, admins name accounts. */
const FORMULA = /^[=+\-@\t\r\0]/;

const quoted = (text: string) => `"${text.replaceAll('"', '""')}"`;

/**
 * Every text is quoted (RFC 4180, its quotes doubled): a spreadsheet whose locale separates cells with `;` would
 * otherwise split `a;=1+1` and run the part after it. Text that begins like a formula is prefixed with `'`.
 * Numbers come from the platform's figures: a negative one is a value, never a formula.
 */
function cell(value: Cell): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  return quoted(FORMULA.test(value) ? `'${value}` : value);
}

/** A CSV file: BOM, one header row, the columns in the order given, CRLF line ends as RFC 4180 has them. */
export function toCsv<T extends Record<string, Cell>>(
  columns: readonly (keyof T & string)[],
  rows: T[],
): string {
  const lines = [
    columns.map(cell).join(','),
    ...rows.map((row) => columns.map((c) => cell(row[c])).join(',')),
  ];
  return `${BOM}${lines.join('\r\n')}\r\n`;
}

/** JSON Lines: one object per line, keys in the column order, so identical data gives identical bytes. */
export function toJsonLines<T extends Record<string, Cell>>(
  columns: readonly (keyof T & string)[],
  rows: T[],
): string {
  return rows
    .map(
      (row) =>
        `${JSON.stringify(Object.fromEntries(columns.filter((c) => row[c] !== undefined).map((c) => [c, row[c]])))}\n`,
    )
    .join('');
}
