/** Excel reads a UTF-8 file as the local code page unless it starts with a byte order mark. */
const BOM = '\uFEFF';

export type Cell = string | number | boolean | undefined;

/** Text a spreadsheet would run as a formula (OWASP, CSV injection): customers write chat records, admins name accounts. */
const FORMULA = /^[=+\-@\t\r]/;

const quoted = (text: string) => `"${text.replaceAll('"', '""')}"`;

function cell(value: Cell): string {
  if (value === undefined) return '';
  // Numbers come from the platform's figures: a negative one is a value, never a formula.
  if (typeof value === 'string' && FORMULA.test(value)) return quoted(`'${value}`);
  const text = String(value);
  // RFC 4180: quote a field holding a comma, quote, CR or LF, doubling its quotes.
  return /[",\r\n]/.test(text) ? quoted(text) : text;
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
