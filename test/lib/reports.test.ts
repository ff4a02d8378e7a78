import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { toCsv, toJsonLines } from '../../lib/reports/csv';
import { addDays, checkRange, dayOf, startOf, windows } from '../../lib/reports/days';
import { writeToFolder } from '../../lib/reports/folder';
import { exportRange } from '../../lib/reports/range';

describe('report days (China time)', () => {
  it('floor to 00:00 China time and name days by their China date', () => {
    expect(dayOf(Date.parse('2026-11-20T15:59:59Z'))).toBe('2026-11-20');
    expect(dayOf(Date.parse('2026-11-20T16:00:00Z'))).toBe('2026-11-21');
    expect(startOf('2026-11-21')).toBe(Date.parse('2026-11-20T16:00:00Z'));
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(() => startOf('2026-02-30')).toThrow("'2026-02-30' is not a date (yyyy-mm-dd)");
  });

  it('split a range into windows of at most 31 days', () => {
    expect(windows('2026-09-01', '2026-10-23')).toEqual([
      { from: '2026-09-01', to: '2026-10-01' },
      { from: '2026-10-02', to: '2026-10-23' },
    ]);
  });

  it('refuse ranges WeCom cannot answer, naming what is wrong', () => {
    const now = Date.parse('2026-11-21T04:00:00Z');
    expect(() => checkRange('2026-11-01', '2026-11-20', now)).not.toThrow();
    expect(() => checkRange('2026-11-01', '2026-11-21', now)).toThrow('to 2026-11-21 is not over yet');
    expect(() => checkRange('2026-05-24', '2026-05-25', now)).toThrow('more than 180 days ago');
    expect(() => checkRange('2026-11-10', '2026-11-01', now)).toThrow('after to');
  });

  it('export yesterday when an invocation names no range', () => {
    const now = Date.parse('2026-11-20T22:30:00Z');
    expect(exportRange({}, now)).toEqual({ from: '2026-11-20', to: '2026-11-20' });
    expect(exportRange({ source: 'aws.events' }, now)).toEqual({ from: '2026-11-20', to: '2026-11-20' });
    expect(() => exportRange({ from: '2026-11-01' }, now)).toThrow('give both from and to');
  });
});

describe('CSV and JSON Lines', () => {
  const rows = [
    { name: '售后, "加急"', note: '第一行\n第二行', count: 3, rate: 0.25 },
    { name: 'plain', note: undefined, count: 0, rate: undefined },
  ];
  const columns = ['name', 'note', 'count', 'rate'] as const;

  it('write a BOM, one header row, every text quoted and CRLF line ends', () => {
    const csv = toCsv([...columns], rows);
    expect(csv).toBe(
      '\uFEFF"name","note","count","rate"\r\n"售后, ""加急""","第一行\n第二行",3,0.25\r\n"plain",,0,\r\n',
    );
    expect(parse(csv, { bom: true, columns: true })).toEqual([
      { name: '售后, "加急"', note: '第一行\n第二行', count: '3', rate: '0.25' },
      { name: 'plain', note: '', count: '0', rate: '' },
    ]);
  });

  it('neutralise text a spreadsheet would run as a formula, per OWASP: a leading quote, the cell quoted', () => {
    const risky = ['=HYPERLINK("https://x.example","点我")', '+1+1', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd'];
    const csv = toCsv(
      ['text', 'count'],
      [
        ...risky.map((text) => ({ text, count: -1 })),
        { text: 'a=b', count: 2 },
        { text: 'a;=1+1', count: 3 },
      ],
    );
    expect(csv).toBe(
      '\uFEFF"text","count"\r\n' +
        [
          `"'=HYPERLINK(""https://x.example"",""点我"")",-1`,
          `"'+1+1",-1`,
          `"'-2+3",-1`,
          `"'@SUM(A1)",-1`,
          `"'\tcmd",-1`,
          `"'\rcmd",-1`,
          '"a=b",2',
          // Quoted, so a spreadsheet whose locale separates cells with ';' keeps it one cell.
          '"a;=1+1",3',
        ].join('\r\n') +
        '\r\n',
    );
    expect((parse(csv, { bom: true, columns: true }) as { text: string }[]).map((row) => row.text)).toEqual([
      ...risky.map((text) => `'${text}`),
      'a=b',
      'a;=1+1',
    ]);
  });

  it('write one object a line, keys in column order, absent values left out', () => {
    expect(toJsonLines([...columns], rows)).toBe(
      '{"name":"售后, \\"加急\\"","note":"第一行\\n第二行","count":3,"rate":0.25}\n{"name":"plain","count":0}\n',
    );
  });
});

describe('a local reports folder', () => {
  it('gets a folder per app and day, created with its parents', async () => {
    const folder = join(await mkdtemp(join(tmpdir(), 'kf-bridge-reports-')), 'new', 'reports');
    await writeToFolder(folder, 'default', '2026-11-20', [{ name: 'report.html', body: '<!doctype html>' }]);
    expect(await readFile(join(folder, 'default', '2026-11-20', 'report.html'), 'utf8')).toBe(
      '<!doctype html>',
    );
  });

  it('that cannot be written is named in a short error', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'kf-bridge-reports-')), 'a-file');
    await writeFile(file, '');
    await expect(writeToFolder(file, 'default', '2026-11-20', [])).rejects.toThrow(
      new RegExp(`^writing the reports into ${file} failed: ENOTDIR`),
    );
  });
});
