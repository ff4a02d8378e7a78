import type { Cell } from './csv';
import type { Day } from './days';

/** What one day's HTML report shows. Everything is in the file: it opens straight from the bucket. */
export interface ReportView {
  readonly app: string;
  readonly day: Day;
  /** Sessions and customers per day over the trailing days, all kf accounts together. */
  readonly trend: { day: Day; sessions: number; customers: number }[];
  readonly corp: Record<string, Cell>[];
  readonly servicers: Record<string, Cell>[];
  readonly chatRecords?: number;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
const num = (value: Cell) => (typeof value === 'number' ? value : 0);
const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
const COLOURS = {
  sessions: '#2f6fde',
  customers: '#35b37e',
  satisfied: '#35b37e',
  middling: '#f2b33d',
  dissatisfied: '#e5534b',
};

const empty = (chart: string) => `<p class="empty" data-chart="${chart}">当日没有数据 (no data)</p>`;

/** Grouped vertical bars, one group per day. */
function trendChart(trend: ReportView['trend']): string {
  if (trend.every((t) => t.sessions === 0 && t.customers === 0)) return empty('sessions-per-day');
  const width = 720;
  const height = 260;
  const top = 20;
  const bottom = 40;
  const left = 40;
  const max = Math.max(1, ...trend.flatMap((t) => [t.sessions, t.customers]));
  const slot = (width - left) / trend.length;
  const bar = Math.max(2, slot / 3);
  const y = (value: number) => top + (height - top - bottom) * (1 - value / max);
  const bars = trend
    .map((t, i) => {
      const x = left + i * slot + slot / 6;
      return [
        `<rect class="bar" data-series="sessions" data-day="${t.day}" x="${x.toFixed(1)}" y="${y(t.sessions).toFixed(1)}" width="${bar.toFixed(1)}" height="${(height - bottom - y(t.sessions)).toFixed(1)}" fill="${COLOURS.sessions}"><title>${t.day} 会话 ${t.sessions}</title></rect>`,
        `<rect class="bar" data-series="customers" data-day="${t.day}" x="${(x + bar).toFixed(1)}" y="${y(t.customers).toFixed(1)}" width="${bar.toFixed(1)}" height="${(height - bottom - y(t.customers)).toFixed(1)}" fill="${COLOURS.customers}"><title>${t.day} 客户 ${t.customers}</title></rect>`,
        `<text x="${(x + bar).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle">${t.day.slice(5)}</text>`,
      ].join('');
    })
    .join('');
  const axis = `<line x1="${left}" y1="${height - bottom}" x2="${width}" y2="${height - bottom}" stroke="#999"/><text x="${left - 6}" y="${top + 4}" text-anchor="end">${max}</text><text x="${left - 6}" y="${height - bottom}" text-anchor="end">0</text>`;
  const legend = `<text x="${left}" y="${height - 6}" fill="${COLOURS.sessions}">■ 咨询会话数 sessions</text><text x="${left + 200}" y="${height - 6}" fill="${COLOURS.customers}">■ 咨询客户数 customers</text>`;
  return `<svg class="chart" data-chart="sessions-per-day" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="sessions and customers per day">${axis}${bars}${legend}</svg>`;
}

/** Horizontal bars, one per servicer; `format` labels each value. */
function servicerBars(
  chart: string,
  rows: { label: string; value: number }[],
  max: number,
  format: (value: number) => string,
): string {
  if (rows.length === 0) return empty(chart);
  const width = 720;
  const line = 28;
  const left = 220;
  const height = rows.length * line + 10;
  const bars = rows
    .map((row, i) => {
      const length = ((width - left - 80) * row.value) / Math.max(max, 1e-9);
      return `<text x="${left - 8}" y="${i * line + 20}" text-anchor="end">${escapeHtml(row.label)}</text><rect class="bar" x="${left}" y="${i * line + 6}" width="${length.toFixed(1)}" height="18" fill="${COLOURS.sessions}"><title>${escapeHtml(row.label)} ${format(row.value)}</title></rect><text x="${(left + length + 6).toFixed(1)}" y="${i * line + 20}">${format(row.value)}</text>`;
    })
    .join('');
  return `<svg class="chart" data-chart="${chart}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">${bars}</svg>`;
}

/** One stacked bar per servicer: satisfied, middling and dissatisfied shares of the ratings. */
function satisfactionChart(servicers: ReportView['servicers'], label: (row: Record<string, Cell>) => string) {
  const rated = servicers.filter((s) => s.satisfied_rate !== undefined);
  if (rated.length === 0) return empty('satisfaction');
  const width = 720;
  const line = 28;
  const left = 220;
  const span = width - left - 20;
  const parts = ['satisfied', 'middling', 'dissatisfied'] as const;
  const bars = rated
    .map((row, i) => {
      let x = left;
      const segments = parts
        .map((part) => {
          const share = num(row[`${part}_rate`]);
          const segment = `<rect class="bar" data-series="${part}" x="${x.toFixed(1)}" y="${i * line + 6}" width="${(span * share).toFixed(1)}" height="18" fill="${COLOURS[part]}"><title>${escapeHtml(label(row))} ${part} ${percent(share)}</title></rect>`;
          x += span * share;
          return segment;
        })
        .join('');
      return `<text x="${left - 8}" y="${i * line + 20}" text-anchor="end">${escapeHtml(label(row))}</text>${segments}`;
    })
    .join('');
  const height = rated.length * line + 34;
  const legend = parts
    .map(
      (part, i) =>
        `<text x="${left + i * 150}" y="${height - 6}" fill="${COLOURS[part]}">■ ${{ satisfied: '满意', middling: '一般', dissatisfied: '不满意' }[part]} ${part}</text>`,
    )
    .join('');
  return `<svg class="chart" data-chart="satisfaction" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">${bars}${legend}</svg>`;
}

function table(rows: Record<string, Cell>[], columns: string[]): string {
  if (rows.length === 0) return '<p class="empty">当日没有数据 (no data)</p>';
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map(
      (row) =>
        `<tr>${columns.map((c) => `<td>${escapeHtml(row[c] === undefined ? '' : String(row[c]))}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

export function renderReport(view: ReportView, columns: { corp: string[]; servicers: string[] }): string {
  const label = (row: Record<string, Cell>) => `${row.servicer_userid} · ${row.account_name}`;
  const withRate = view.servicers.filter((s) => s.reply_rate !== undefined);
  const withFirstReply = view.servicers.filter((s) => s.first_reply_average_sec !== undefined);
  const title = `kf-bridge 日报 · ${view.app} · ${view.day}`;
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
svg.chart { max-width: 100%; height: auto; font-size: 12px; } svg text:not([fill]) { fill: #333; }
table { border-collapse: collapse; font-size: 12px; margin-top: 8px; } th, td { border: 1px solid #ddd; padding: 4px 6px; text-align: right; }
th { background: #f5f5f5; } td:nth-child(-n+4) { text-align: left; } .empty { color: #888; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<h2>咨询会话数与客户数 · sessions and customers per day</h2>
${trendChart(view.trend)}
<h2>人工回复率 · reply rate per servicer</h2>
${servicerBars(
  'reply-rate',
  withRate.map((s) => ({ label: label(s), value: num(s.reply_rate) })),
  1,
  percent,
)}
<h2>平均首次响应时长 · first-reply time per servicer (s)</h2>
${servicerBars(
  'first-reply',
  withFirstReply.map((s) => ({ label: label(s), value: num(s.first_reply_average_sec) })),
  Math.max(0, ...withFirstReply.map((s) => num(s.first_reply_average_sec))),
  (value) => `${value.toFixed(1)} s`,
)}
<h2>满意度 · satisfaction</h2>
${satisfactionChart(view.servicers, label)}
<h2>客服账号 · kf accounts</h2>
${table(view.corp, columns.corp)}
<h2>接待人员 · servicers</h2>
${table(view.servicers, columns.servicers)}
${view.chatRecords === undefined ? '' : `<h2>公众号聊天记录 · Official Account chat records</h2>\n<p>${view.chatRecords} 条记录 (records) — chat-records.csv</p>`}
</body>
</html>
`;
}
