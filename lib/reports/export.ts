import { createHash } from 'node:crypto';
import type { S3Objects } from '../aws/s3';
import type { AppConfig, Config } from '../config/config';
import { ConfigError } from '../errors';
import type { Log } from '../logger';
import type { PlatformCall } from '../platform/client';
import { putObject } from '../s3';
import {
  type ChatRecord,
  chatRecords,
  type KfAccount,
  listKfAccounts,
  listServicers,
  type Statistic,
  statistics,
} from './collect';
import { type Cell, toCsv, toJsonLines } from './csv';
import { addDays, availableDays, checkRange, type Day, daysFrom, windows } from './days';
import { writeToFolder } from './folder';
import { renderReport } from './html';
import type { ExportProgress } from './progress';

export const MANIFEST_SCHEMA = 'kf-bridge.report-manifest/v1';
/** The HTML trend chart shows each day with the 13 before it. */
const TREND_DAYS = 14;

const CORP_FIELDS = [
  'session_cnt',
  'customer_cnt',
  'customer_msg_cnt',
  'upgrade_service_customer_cnt',
  'ai_session_reply_cnt',
  'ai_transfer_rate',
  'ai_knowledge_hit_rate',
  'msg_rejected_customer_cnt',
];
const SERVICER_FIELDS = [
  'session_cnt',
  'customer_cnt',
  'customer_msg_cnt',
  'reply_rate',
  'first_reply_average_sec',
  'satisfaction_investgate_cnt',
  'satisfaction_participation_rate',
  'satisfied_rate',
  'middling_rate',
  'dissatisfied_rate',
  'upgrade_service_customer_cnt',
  'upgrade_service_member_invite_cnt',
  'upgrade_service_member_customer_cnt',
  'upgrade_service_groupchat_invite_cnt',
  'upgrade_service_groupchat_customer_cnt',
  'msg_rejected_customer_cnt',
];
export const COLUMNS = {
  corp: ['date', 'open_kfid', 'account_name', ...CORP_FIELDS],
  servicers: ['date', 'open_kfid', 'account_name', 'servicer_userid', ...SERVICER_FIELDS],
  chat: ['time', 'openid', 'direction', 'opercode', 'worker', 'text'],
};

export interface ExportDeps {
  readonly config: Config;
  readonly call: PlatformCall;
  readonly s3: S3Objects;
  /** A local folder that gets every file too (`{folder}/{app}/{day}/`); with it the bucket is optional. */
  readonly folder?: string;
  readonly progress: ExportProgress;
  readonly now: () => number;
  readonly log: Log;
  /** Called after each day is written, for a progress bar. */
  readonly onDay?: (done: number, total: number, app: string, day: Day) => void;
  /** Stop before starting a window after this time (a Lambda's deadline); the next run continues. */
  readonly stopAfter?: number;
  readonly signal?: AbortSignal;
}

export interface ExportSummary {
  readonly from: Day;
  readonly to: Day;
  readonly complete: boolean;
  readonly days: number;
  readonly files: number;
}

interface KfData {
  readonly accounts: KfAccount[];
  readonly servicers: Map<string, string[]>;
  /** `openKfId` → day → figures, and `openKfId#userid` → day → figures. */
  readonly corp: Map<string, Map<Day, Statistic>>;
  readonly servicer: Map<string, Map<Day, Statistic>>;
}

interface File {
  readonly name: string;
  readonly body: string;
  readonly contentType: string;
  readonly rows?: number;
}

const pick = (statistic: Statistic | undefined, fields: string[]): Record<string, Cell> =>
  Object.fromEntries(fields.map((field) => [field, statistic?.[field]]));

function kfRows(data: KfData, day: Day): { corp: Record<string, Cell>[]; servicers: Record<string, Cell>[] } {
  const corp = data.accounts.flatMap((account) => {
    const statistic = data.corp.get(account.openKfId)?.get(day);
    return statistic
      ? [
          {
            date: day,
            open_kfid: account.openKfId,
            account_name: account.name,
            ...pick(statistic, CORP_FIELDS),
          },
        ]
      : [];
  });
  const servicers = data.accounts.flatMap((account) =>
    (data.servicers.get(account.openKfId) ?? []).flatMap((userid) => {
      const statistic = data.servicer.get(`${account.openKfId}#${userid}`)?.get(day);
      return statistic
        ? [
            {
              date: day,
              open_kfid: account.openKfId,
              account_name: account.name,
              servicer_userid: userid,
              ...pick(statistic, SERVICER_FIELDS),
            },
          ]
        : [];
    }),
  );
  return { corp, servicers };
}

function chatRows(records: ChatRecord[]) {
  return records.map((record) => ({
    time: new Date(record.time * 1000 + 8 * 3600_000).toISOString().replace('.000Z', '+08:00'),
    openid: record.openid,
    direction: record.opercode === 2002 ? 'kf_sent' : 'kf_received',
    opercode: record.opercode,
    worker: record.worker,
    text: record.text,
  }));
}

function dataFiles(base: string, columns: string[], rows: Record<string, Cell>[]): File[] {
  return [
    {
      name: `${base}.csv`,
      body: toCsv(columns, rows),
      contentType: 'text/csv; charset=utf-8',
      rows: rows.length,
    },
    {
      name: `${base}.jsonl`,
      body: toJsonLines(columns, rows),
      contentType: 'application/x-ndjson; charset=utf-8',
      rows: rows.length,
    },
  ];
}

/** A day's files, the manifest last: it lists exactly what was written, with each file's digest. */
function dayFiles(app: string, day: Day, kf: KfData | undefined, chat: ChatRecord[] | undefined): File[] {
  const files: File[] = [];
  const rows = kf ? kfRows(kf, day) : { corp: [], servicers: [] };
  if (kf) {
    files.push(...dataFiles('corp-statistics', COLUMNS.corp, rows.corp));
    files.push(...dataFiles('servicer-statistics', COLUMNS.servicers, rows.servicers));
  }
  if (chat) files.push(...dataFiles('chat-records', COLUMNS.chat, chatRows(chat)));
  // All kf accounts together, straight from the figures WeCom returned.
  const total = (d: Day, field: string) =>
    (kf?.accounts ?? []).reduce((sum, a) => sum + (kf?.corp.get(a.openKfId)?.get(d)?.[field] ?? 0), 0);
  const trend = daysFrom(addDays(day, 1 - TREND_DAYS), day).map((d) => ({
    day: d,
    sessions: total(d, 'session_cnt'),
    customers: total(d, 'customer_cnt'),
  }));
  files.push({
    name: 'report.html',
    body: renderReport(
      {
        app,
        day,
        trend,
        corp: rows.corp,
        servicers: rows.servicers,
        ...(chat && { chatRecords: chat.length }),
      },
      { corp: COLUMNS.corp, servicers: COLUMNS.servicers },
    ),
    contentType: 'text/html; charset=utf-8',
  });
  const manifest = {
    schema: MANIFEST_SCHEMA,
    app,
    date: day,
    files: files.map((file) => ({
      name: file.name,
      bytes: Buffer.byteLength(file.body),
      sha256: createHash('sha256').update(file.body).digest('hex'),
      ...(file.rows !== undefined && { rows: file.rows }),
    })),
  };
  files.push({
    name: 'manifest.json',
    body: `${JSON.stringify(manifest, null, 2)}\n`,
    contentType: 'application/json',
  });
  return files;
}

async function writeDay(deps: ExportDeps, bucket: string | undefined, app: string, day: Day, files: File[]) {
  if (deps.folder) await writeToFolder(deps.folder, app, day, files);
  if (!bucket) return;
  for (const file of files) {
    const key = `reports/${app}/${day}/${file.name}`;
    await putObject(
      deps.s3,
      { bucket, key, body: Buffer.from(file.body), contentType: file.contentType, what: `writing ${key}` },
      deps.signal,
    );
  }
}

async function fetchKfWindow(deps: ExportDeps, app: AppConfig, data: KfData, window: { from: Day; to: Day }) {
  const merge = (target: Map<string, Map<Day, Statistic>>, key: string, days: Map<Day, Statistic>) => {
    const existing = target.get(key) ?? new Map<Day, Statistic>();
    for (const [day, statistic] of days) existing.set(day, statistic);
    target.set(key, existing);
  };
  for (const account of data.accounts) {
    merge(
      data.corp,
      account.openKfId,
      await statistics(deps.call, app, { openKfId: account.openKfId, ...window }, deps.signal),
    );
    for (const userid of data.servicers.get(account.openKfId) ?? []) {
      merge(
        data.servicer,
        `${account.openKfId}#${userid}`,
        await statistics(
          deps.call,
          app,
          { openKfId: account.openKfId, servicerUserId: userid, ...window },
          deps.signal,
        ),
      );
    }
  }
}

/**
 * Exports `from`..`to` for every app: per day, `reports/{app}/{day}/` in the bucket (and `{app}/{day}/` in the
 * local folder, if one is given) gets CSV and JSON Lines of the kf accounts' and servicers' statistics and of
 * an Official Account's chat records, an HTML report and a manifest. Statistics are fetched in windows of at
 * most 31 days, starting 13 days early for the trend chart; after each window the days written are recorded,
 * so a run that stops continues where it stopped.
 */
export async function exportReports(range: { from: Day; to: Day }, deps: ExportDeps): Promise<ExportSummary> {
  const bucket = deps.config.reportsBucket;
  if (!bucket && !deps.folder) throw new ConfigError('REPORTS_BUCKET is not set');
  checkRange(range.from, range.to, deps.now());
  const apps = [...deps.config.apps.values()];
  const total = apps.length * daysFrom(range.from, range.to).length;
  let done = 0;
  let files = 0;
  for (const app of apps) {
    const resumeAfter = await deps.progress.doneThrough(app.name, range);
    const first = resumeAfter ? addDays(resumeAfter, 1) : range.from;
    done += resumeAfter ? daysFrom(range.from, resumeAfter).length : 0;
    if (resumeAfter) deps.log.info('export continues', { app: app.name, after: resumeAfter });
    if (first > range.to) continue;
    let kf: KfData | undefined;
    if (app.wecom) {
      const accounts = await listKfAccounts(deps.call, app, deps.signal);
      const servicers = new Map<string, string[]>();
      for (const account of accounts)
        servicers.set(account.openKfId, await listServicers(deps.call, app, account.openKfId, deps.signal));
      kf = { accounts, servicers, corp: new Map(), servicer: new Map() };
    }
    const oldest = availableDays(deps.now()).oldest;
    const fetchFrom = [addDays(first, 1 - TREND_DAYS), oldest].sort().at(-1) as Day;
    for (const window of windows(fetchFrom, range.to)) {
      if (deps.stopAfter !== undefined && deps.now() > deps.stopAfter) {
        deps.log.info('export stopped before its deadline; run the same range again to continue', {
          app: app.name,
        });
        return { ...range, complete: false, days: done, files };
      }
      if (kf) await fetchKfWindow(deps, app, kf, window);
      const days = daysFrom(window.from, window.to).filter((day) => day >= first);
      for (const day of days) {
        const chat = app.mp ? await chatRecords(deps.call, app, day, deps.signal) : undefined;
        const written = dayFiles(app.name, day, kf, chat);
        await writeDay(deps, bucket, app.name, day, written);
        files += written.length;
        done++;
        deps.onDay?.(done, total, app.name, day);
      }
      const last = days.at(-1);
      if (last) await deps.progress.record(app.name, range, last, deps.now());
    }
    await deps.progress.finish(app.name, range);
    deps.log.info('export done', { app: app.name, from: range.from, to: range.to });
  }
  return { ...range, complete: true, days: done, files };
}
