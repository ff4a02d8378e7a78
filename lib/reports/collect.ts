import type { AppConfig } from '../config/config';
import type { PlatformCall } from '../platform/client';
import { type Day, dayOf, startOf } from './days';

export interface KfAccount {
  readonly openKfId: string;
  readonly name: string;
}

/** One day's figures as WeCom returns them; absent when WeCom has no data for the day. */
export type Statistic = Readonly<Record<string, number>>;

export interface ChatRecord {
  readonly openid: string;
  readonly opercode: number;
  readonly text: string;
  readonly time: number;
  readonly worker: string;
}

const PAGE = 100;
const RECORDS_PAGE = 10_000;

/** Every kf account of the app, `kf/account/list` paged until a page comes back short. */
export async function listKfAccounts(call: PlatformCall, app: AppConfig, signal?: AbortSignal) {
  const accounts: KfAccount[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const answer = await call(app, 'wecom', {
      path: '/cgi-bin/kf/account/list',
      body: { offset, limit: PAGE },
      ...(signal && { signal }),
    });
    const page = (answer.account_list ?? []) as { open_kfid: string; name: string }[];
    accounts.push(...page.map((a) => ({ openKfId: a.open_kfid, name: a.name })));
    if (page.length < PAGE) return accounts.sort((a, b) => a.openKfId.localeCompare(b.openKfId));
  }
}

/** The servicers (users, not departments) of one kf account. */
export async function listServicers(
  call: PlatformCall,
  app: AppConfig,
  openKfId: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const answer = await call(app, 'wecom', {
    path: '/cgi-bin/kf/servicer/list',
    method: 'GET',
    query: { open_kfid: openKfId },
    ...(signal && { signal }),
  });
  return ((answer.servicer_list ?? []) as { userid?: string }[])
    .flatMap((s) => (s.userid ? [s.userid] : []))
    .sort();
}

/** One statistics call for a window of at most 31 days: each day that has data, by day. */
export async function statistics(
  call: PlatformCall,
  app: AppConfig,
  request: { openKfId: string; servicerUserId?: string; from: Day; to: Day },
  signal?: AbortSignal,
): Promise<Map<Day, Statistic>> {
  const answer = await call(app, 'wecom', {
    path: request.servicerUserId ? '/cgi-bin/kf/get_servicer_statistic' : '/cgi-bin/kf/get_corp_statistic',
    body: {
      open_kfid: request.openKfId,
      ...(request.servicerUserId && { servicer_userid: request.servicerUserId }),
      start_time: startOf(request.from) / 1000,
      end_time: startOf(request.to) / 1000,
    },
    ...(signal && { signal }),
  });
  const days = new Map<Day, Statistic>();
  for (const entry of (answer.statistic_list ?? []) as { stat_time: number; statistic?: Statistic }[]) {
    // A day without `statistic` has no data: it is left out, not reported as zeros.
    if (entry.statistic) days.set(dayOf(entry.stat_time * 1000), entry.statistic);
  }
  return days;
}

/** An Official Account's chat records of one day: one 24 h window, paged by record id. */
export async function chatRecords(
  call: PlatformCall,
  app: AppConfig,
  day: Day,
  signal?: AbortSignal,
): Promise<ChatRecord[]> {
  const starttime = startOf(day) / 1000;
  const records: ChatRecord[] = [];
  for (let msgid = 1; ; ) {
    const answer = await call(app, 'mp', {
      path: '/customservice/msgrecord/getmsglist',
      body: { starttime, endtime: starttime + 86_399, msgid, number: RECORDS_PAGE },
      ...(signal && { signal }),
    });
    const page = (answer.recordlist ?? []) as ChatRecord[];
    records.push(...page);
    if (page.length < RECORDS_PAGE) return records;
    msgid = Number(answer.msgid);
  }
}
