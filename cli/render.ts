import { kebab } from './flags';

/** Human output: a table for each list of records, `key  value` lines for the rest. */

// CJK and full-width forms take two terminal columns.
const WIDE = /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u;
const width = (text: string) => [...text].reduce((sum, c) => sum + (WIDE.test(c) ? 2 : 1), 0);
const pad = (text: string, columns: number) => text + ' '.repeat(Math.max(0, columns - width(text)));

const words = (field: string) => field.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`);

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map(cell).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const isRecordList = (value: unknown): value is Record<string, unknown>[] =>
  Array.isArray(value) &&
  value.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item));

export function table(rows: readonly Record<string, unknown>[]): string[] {
  if (rows.length === 0) return ['(none)'];
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cells = rows.map((row) => columns.map((column) => cell(row[column])));
  const header = columns.map(words);
  const widths = columns.map((_, i) =>
    Math.max(width(header[i] as string), ...cells.map((r) => width(r[i] as string))),
  );
  const line = (values: string[]) =>
    values
      .map((value, i) => pad(value, widths[i] as number))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)];
}

export function render(result: Record<string, unknown>): string {
  const entries = Object.entries(result);
  const lists = entries.filter((entry): entry is [string, Record<string, unknown>[]] =>
    isRecordList(entry[1]),
  );
  const simple = entries.filter(([, value]) => !isRecordList(value));
  const labelWidth = Math.max(0, ...simple.map(([key]) => width(words(key))));
  const lines = simple.map(([key, value]) => `${pad(words(key), labelWidth)}  ${cell(value)}`);
  for (const [key, rows] of lists) {
    if (lines.length > 0) lines.push('');
    if (entries.length > 1) lines.push(`${words(key)}:`);
    lines.push(...table(rows));
  }
  return `${lines.join('\n')}\n`;
}

/** A validation problem as the CLI's user knows it: each input field it names (`avatar.url`) is its flag. */
export function inFlags(problem: string, fields: readonly string[]): string {
  return problem.replace(/\b([a-z][A-Za-z0-9]*)(?:\.[\w.]+)?/g, (named, field: string) =>
    fields.includes(field) ? `--${kebab(field)}` : named,
  );
}
