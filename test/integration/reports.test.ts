import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/config';
import { NO_METRICS } from '../../lib/metrics';
import { platformFor } from '../../lib/platform/wiring';
import { addDays, type Day, dayOf, daysFrom } from '../../lib/reports/days';
import { type ExportDeps, exportReports } from '../../lib/reports/export';
import { ExportProgress } from '../../lib/reports/progress';
import { ROOT } from '../../local/serviceDefinition';
import { type RunningSimulator, startSimulator } from '../../simulator';
import { itemStores, localS3Objects, localStack, s3Client } from '../support/aws';
import { itInBrowser, launchBrowser } from '../support/browser';
import { recordingLog } from '../support/recording';
import { REPORT_DAY_FILES } from '../support/reports';
import { testEnv } from '../support/wechat';

/** The state table's item calls as the functions make them. */
const items = itemStores().signed;
const s3 = s3Client();
const BUCKET = 'reportsbucket';
// A corp of its own: no access token of another test file's simulator is cached for it.
const CORP_ID = 'wwreports00000001';
const ACCOUNT_NAMES = ['售后, "加急"', '售前\n咨询'];
let sim: RunningSimulator;
let deps: ExportDeps;
let accounts: string[];

/** Forty-five days of conversations: customers write, servicers take, answer and end sessions, ratings. */
function simulateHistory() {
  const ratings = ['satisfied', 'middling', 'dissatisfied'] as const;
  for (let day = 0; day < 45; day++) {
    for (const [index, openKfId] of accounts.entries()) {
      for (let n = 0; n <= (day + index) % 3; n++) {
        const customer = `wmR${index}${n}`;
        sim.sim.customerSays(openKfId, customer, `第${day}天 问题${n}`);
        const servicer = n % 2 === 0 ? 'alice' : 'bob';
        sim.sim.servicerChangesSession(openKfId, customer, 'take', servicer);
        sim.sim.advanceClock(30_000 * (n + 1));
        sim.sim.servicerWrites(openKfId, customer, servicer, { msgtype: 'text', text: { content: '您好' } });
        sim.sim.servicerChangesSession(openKfId, customer, 'end');
        if ((day + n) % 4 !== 0)
          sim.sim.customerRates(openKfId, customer, ratings[(day + n) % 3] ?? 'satisfied');
      }
    }
    const mpApp = sim.sim.mp.apps.get(testEnv.MP_APP_ID);
    if (mpApp) {
      sim.sim.mp.record(mpApp, `oFollower${day % 3}`, 2003, `公众号, "第${day}天"`, 'kf01@gh_test');
      // A follower who writes a spreadsheet formula.
      sim.sim.mp.record(
        mpApp,
        'oFormula',
        2003,
        `=HYPERLINK("https://x.example/${day}","第${day}天")`,
        'kf01@gh_test',
      );
    }
    sim.sim.advanceClock(24 * 3600_000);
  }
}

async function objects(prefix: string): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    for (const item of page.Contents ?? []) {
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: item.Key }));
      found.set(item.Key ?? '', Buffer.from(await (object.Body?.transformToByteArray() ?? new Uint8Array())));
    }
    token = page.NextContinuationToken;
  } while (token);
  return found;
}

const calls = (endpoint: string) => sim.sim.calls.get(endpoint) ?? 0;

/** A JSON Lines value as its CSV cell reads back: text a spreadsheet would run as a formula starts with a quote (OWASP). */
const asCsvText = (value: unknown) => {
  if (value === undefined) return '';
  return typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value);
};

beforeAll(async () => {
  sim = await startSimulator();
  sim.sim.createCorp({ corpId: CORP_ID, secrets: [testEnv.WECOM_KF_SECRET], users: ['alice', 'bob'] });
  accounts = ACCOUNT_NAMES.map((name) => sim.sim.createKfAccount(CORP_ID, name));
  sim.sim.createMpApp({ appId: testEnv.MP_APP_ID, secret: testEnv.MP_APP_SECRET, token: testEnv.MP_TOKEN });
  const config = parseConfig({
    ...testEnv,
    WECOM_CORP_ID: CORP_ID,
    WECOM_API_BASE: sim.url,
    MP_API_BASE: sim.url,
    REPORTS_BUCKET: BUCKET,
  });
  deps = {
    config,
    call: platformFor(config, items, recordingLog().log, NO_METRICS, () => sim.sim.clock.now()).call,
    s3: localS3Objects(),
    progress: new ExportProgress(items, testEnv.STATE_TABLE),
    now: () => sim.sim.clock.now(),
    log: recordingLog().log,
  };
  // Servicers join through the API, as an admin would add them.
  const app = config.apps.get('default');
  if (!app) throw new Error('the test settings define the default app');
  for (const openKfId of accounts)
    await deps.call(app, 'wecom', {
      path: '/cgi-bin/kf/servicer/add',
      body: { open_kfid: openKfId, userid_list: ['alice', 'bob'] },
    });
  simulateHistory();
}, 60_000);

afterAll(async () => {
  await sim.stop();
});

describe('statistics and chat-record export', () => {
  let range: { from: Day; to: Day };
  let first: Map<string, Buffer>;

  it('backfills 40 days in two statistics calls per account and servicer, a folder per day', async () => {
    const yesterday = addDays(dayOf(sim.sim.clock.now()), -1);
    range = { from: addDays(yesterday, -39), to: yesterday };
    const [corpBefore, servicerBefore] = [calls('kf/get_corp_statistic'), calls('kf/get_servicer_statistic')];
    const summary = await exportReports(range, deps);
    expect(summary).toMatchObject({ complete: true, days: 40, files: 40 * 8 });
    expect(calls('kf/get_corp_statistic') - corpBefore).toBe(2 * accounts.length);
    expect(calls('kf/get_servicer_statistic') - servicerBefore).toBe(2 * accounts.length * 2);
    first = await objects('reports/default/');
    expect(first.size).toBe(40 * 8);
    const day = addDays(yesterday, -5);
    expect([...first.keys()].filter((key) => key.startsWith(`reports/default/${day}/`)).sort()).toEqual(
      REPORT_DAY_FILES.map((name) => `reports/default/${day}/${name}`),
    );
  });

  it('writes CSV that parses back to the same rows as the JSON Lines, names with commas, quotes and newlines intact, formulas neutralised', () => {
    const csvRows = (day: Day, base: string) =>
      parse(first.get(`reports/default/${day}/${base}.csv`) as Buffer, {
        bom: true,
        columns: true,
      }) as Record<string, string>[];
    // A day on which both accounts served customers and a follower wrote.
    const day = daysFrom(range.from, range.to).find(
      (d) => csvRows(d, 'corp-statistics').length === 2 && csvRows(d, 'chat-records').length > 0,
    ) as Day;
    for (const base of ['corp-statistics', 'servicer-statistics', 'chat-records']) {
      const csv = first.get(`reports/default/${day}/${base}.csv`) as Buffer;
      expect(csv.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
      const rows = parse(csv, { bom: true, columns: true }) as Record<string, string>[];
      const lines = (first.get(`reports/default/${day}/${base}.jsonl`) as Buffer)
        .toString('utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows).toEqual(
        lines.map((line) =>
          Object.fromEntries(Object.keys(rows[0] ?? {}).map((c) => [c, asCsvText(line[c])])),
        ),
      );
    }
    expect(
      csvRows(day, 'corp-statistics')
        .map((row) => row.account_name)
        .sort(),
    ).toEqual([...ACCOUNT_NAMES].sort());
    expect(csvRows(day, 'chat-records')).toEqual([
      expect.objectContaining({
        direction: 'kf_received',
        text: expect.stringMatching(/^公众号, "第\d+天"$/),
      }),
      expect.objectContaining({
        direction: 'kf_received',
        text: expect.stringMatching(/^'=HYPERLINK\("https:\/\/x\.example\/\d+","第\d+天"\)$/),
      }),
    ]);
  });

  it('writes byte-identical files when the same range runs again, each listed in its manifest', async () => {
    await exportReports(range, deps);
    const again = await objects('reports/default/');
    expect([...again.keys()].sort()).toEqual([...first.keys()].sort());
    for (const [key, body] of first) expect(again.get(key)?.equals(body), key).toBe(true);
    const manifest = JSON.parse(String(first.get(`reports/default/${range.to}/manifest.json`)));
    expect(manifest.files).toHaveLength(7);
    for (const file of manifest.files)
      expect(first.get(`reports/default/${range.to}/${file.name}`)?.length).toBe(file.bytes);
  });

  it('continues a crashed backfill where it stopped, and ends with the same files', async () => {
    let puts = 0;
    const s3Objects = localS3Objects();
    const crashing: ExportDeps = {
      ...deps,
      s3: {
        ...s3Objects,
        putObject: (...args) => {
          // Dies part-way through the second window's days.
          if (++puts > 8 * 35) throw new Error('export killed');
          return s3Objects.putObject(...args);
        },
      },
    };
    await expect(exportReports(range, crashing)).rejects.toThrow(/^writing reports\/default\/.+ failed$/);
    const written: Day[] = [];
    const summary = await exportReports(range, { ...deps, onDay: (_, __, ___, day) => written.push(day) });
    expect(summary.complete).toBe(true);
    // The first window (13 days of trend history, then the range's first 18 days) was recorded done.
    expect(written[0]).toBe(addDays(range.from, 18));
    expect(written.at(-1)).toBe(range.to);
    const after = await objects('reports/default/');
    for (const [key, body] of first) expect(after.get(key)?.equals(body), key).toBe(true);
  });

  itInBrowser('renders an HTML report with its charts, needing nothing but the file', async () => {
    const html = String(first.get(`reports/default/${range.to}/report.html`));
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.setContent(html);
      for (const chart of ['sessions-per-day', 'reply-rate', 'first-reply', 'satisfaction'])
        expect(await page.locator(`svg[data-chart="${chart}"] rect.bar`).count(), chart).toBeGreaterThan(0);
      expect(
        await page.locator('svg[data-chart="sessions-per-day"] rect[data-series="customers"]').count(),
      ).toBe(14);
      const screenshot = await page.screenshot({ fullPage: true });
      // A blank page compresses to almost nothing; charts and tables do not.
      expect(screenshot.length).toBeGreaterThan(20_000);
    } finally {
      await browser.close();
    }
  });
});

/** Every bar of one chart in a report: its series, day and length (height for columns, width for rows). */
function bars(html: string, chart: string) {
  const svg = html.match(new RegExp(`<svg class="chart" data-chart="${chart}"[\\s\\S]*?</svg>`))?.[0] ?? '';
  return [...svg.matchAll(/<rect class="bar"([^>]*)>/g)].map(([, attributes = '']) => {
    const attribute = (name: string) => attributes.match(new RegExp(`${name}="([^"]*)"`))?.[1];
    return {
      series: attribute('data-series'),
      day: attribute('data-day'),
      length: Number(attribute(chart === 'sessions-per-day' ? 'height' : 'width')),
    };
  });
}

describe('npm run export against the simulator started today', () => {
  // Another corp and Official Account: no token another simulator handed out is cached for them.
  const LOCAL_CORP_ID = 'wwreports00000002';
  const LOCAL_MP_APP_ID = 'wxreports00000002';
  const SERVICERS = ['alice', 'bob'];
  let today: RunningSimulator;

  beforeAll(async () => {
    // As npm start's simulator: the days before it started have statistics, nothing else happened.
    today = await startSimulator();
    today.sim.createCorp({ corpId: LOCAL_CORP_ID, secrets: [testEnv.WECOM_KF_SECRET], users: SERVICERS });
    for (const name of ACCOUNT_NAMES)
      today.sim.createKfAccount(LOCAL_CORP_ID, name, { servicers: SERVICERS });
    today.sim.createMpApp({ appId: LOCAL_MP_APP_ID, secret: testEnv.MP_APP_SECRET, token: testEnv.MP_TOKEN });
  });

  afterAll(async () => {
    await today.stop();
  });

  it('exports a past week into the folder it names, every chart of every day full of data, and into the bucket', async () => {
    const yesterday = addDays(dayOf(today.sim.clock.now()), -1);
    const week = { from: addDays(yesterday, -6), to: yesterday };
    const out = join(await mkdtemp(join(tmpdir(), 'kf-bridge-export-')), 'not', 'there', 'yet');
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !/^(AWS_|KF_BRIDGE_|WECOM_|MP_|REPORTS_)/.test(name)),
    );
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
        'scripts/export.ts',
        '--from',
        week.from,
        '--to',
        week.to,
        '--out',
        out,
      ],
      {
        cwd: ROOT,
        env: {
          ...inherited,
          ...localStack().env,
          ...testEnv,
          WECOM_CORP_ID: LOCAL_CORP_ID,
          WECOM_API_BASE: today.url,
          MP_APP_ID: LOCAL_MP_APP_ID,
          MP_API_BASE: today.url,
          REPORTS_BUCKET: BUCKET,
        },
      },
    );
    const printed = stdout
      .split('\n')
      .flatMap((line) => line.match(/^\s+(\/\S+report\.html)$/)?.slice(1) ?? []);
    expect(stdout).toContain(`reports in ${out}`);
    expect(printed).toEqual(
      daysFrom(week.from, week.to).map((day) => join(out, 'default', day, 'report.html')),
    );
    for (const [index, path] of printed.entries()) {
      const day = daysFrom(week.from, week.to)[index] as Day;
      expect(existsSync(path), path).toBe(true);
      const html = await readFile(path, 'utf8');
      expect(html, `${day}: a chart or table without data`).not.toContain('class="empty"');
      const trend = bars(html, 'sessions-per-day');
      expect(trend.map((bar) => bar.day)).toEqual(daysFrom(addDays(day, -13), day).flatMap((d) => [d, d]));
      for (const bar of trend) expect(bar.length, `${day}: ${bar.series} on ${bar.day}`).toBeGreaterThan(0);
      for (const chart of ['reply-rate', 'first-reply']) {
        const lengths = bars(html, chart).map((bar) => bar.length);
        expect(lengths, `${day}: ${chart}`).toHaveLength(ACCOUNT_NAMES.length * SERVICERS.length);
        for (const length of lengths) expect(length, `${day}: ${chart}`).toBeGreaterThan(0);
      }
      const satisfaction = bars(html, 'satisfaction');
      expect(satisfaction, `${day}: satisfaction`).toHaveLength(3 * ACCOUNT_NAMES.length * SERVICERS.length);
      expect(
        satisfaction.filter((bar) => bar.series === 'satisfied' && bar.length > 0).length,
      ).toBeGreaterThan(0);
      const csvRows = async (base: string) =>
        (
          parse(await readFile(join(out, 'default', day, `${base}.csv`)), {
            bom: true,
            columns: true,
          }) as unknown[]
        ).length;
      expect(await csvRows('corp-statistics')).toBe(ACCOUNT_NAMES.length);
      expect(await csvRows('servicer-statistics')).toBe(ACCOUNT_NAMES.length * SERVICERS.length);
      // The bucket got the same files, as the deployed function writes them.
      const stored = await s3.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: `reports/default/${day}/report.html` }),
      );
      expect(await stored.Body?.transformToString()).toBe(html);
    }
  }, 120_000);
});
