import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Flag, inputFrom, parseArgs, UsageError } from '../../cli/flags';
import { EXIT, runCli } from '../../cli/main';
import { render } from '../../cli/render';
import { localEndpoints } from '../../local/endpoints';

function io(env: Record<string, string> = {}, answer?: () => Response) {
  const out = { stdout: '', stderr: '', fetched: [] as string[] };
  return {
    out,
    io: {
      env,
      stdout: (text: string) => {
        out.stdout += text;
      },
      stderr: (text: string) => {
        out.stderr += text;
      },
      fetch: (async (url: string) => {
        out.fetched.push(url);
        if (answer) return answer();
        throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      }) as unknown as typeof fetch,
      readFile: async (path: string) => Buffer.from(`bytes of ${path}`),
      localAdminKey: async () => 'local-admin-key-0123456789',
      // No npm start recorded here: the variables and defaults alone.
      localApiUrl: async () =>
        (await localEndpoints(env, join(tmpdir(), 'no-kf-bridge', 'local.json'))).apiUrl,
    },
  };
}

describe('kf-bridge CLI', () => {
  it('has help for everything, and exit 2 without a command', async () => {
    const general = io();
    expect(await runCli(['--help'], general.io)).toBe(EXIT.done);
    expect(general.out.stdout).toContain('Usage: npx kf-bridge <group> <command> [flags]');
    expect(general.out.stdout).toContain('  3  the platform refused');
    // local/endpoints.ts: the variable wins over what npm start recorded.
    expect(general.out.stdout).toContain('(HTTP_PORT, else where it recorded it runs, default 3000;');
    expect(await runCli([], io().io)).toBe(EXIT.usage);
    const group = io();
    expect(await runCli(['servicers', '--help'], group.io)).toBe(EXIT.done);
    expect(group.out.stdout).toMatch(/ {2}add {7}Add members or departments/);
    const command = io();
    expect(await runCli(['kf-accounts', 'add', '-h'], command.io)).toBe(EXIT.done);
    expect(command.out.stdout).toContain('--avatar <path|https-url|s3://bucket/key|media:ID>');
    expect(command.out.stdout).toContain('API: POST /v1/admin/kf/accounts');
  });

  it('refuses unknown groups, commands and flags, naming what exists', async () => {
    const group = io();
    expect(await runCli(['accounts', 'list'], group.io)).toBe(EXIT.usage);
    expect(group.out.stderr).toContain("no group 'accounts'; the groups are kf-accounts, servicers");
    const command = io();
    expect(await runCli(['kf-accounts', 'show'], command.io)).toBe(EXIT.usage);
    expect(command.out.stderr).toContain('the commands are list, add, update, delete, link');
    const flag = io();
    expect(await runCli(['kf-accounts', 'list', '--colour', 'red', '--local'], flag.io)).toBe(EXIT.usage);
    expect(flag.out.stderr).toBe('kf-bridge: kf-accounts list has no flag --colour; see --help\n');
    expect(flag.out.fetched).toEqual([]);
  });

  it('needs to know where to send, and says when nothing answers there', async () => {
    const nowhere = io();
    expect(await runCli(['kf-accounts', 'list'], nowhere.io)).toBe(EXIT.usage);
    expect(nowhere.out.stderr).toContain('say where: --local, or --url (KF_BRIDGE_URL)');
    const local = io({ HTTP_PORT: '3999' });
    expect(await runCli(['upgrade-service', 'config', '--local'], local.io)).toBe(EXIT.unreachable);
    expect(local.out.fetched).toEqual([
      'http://127.0.0.1:3999/v1/admin/kf/upgrade-service/config?app=default',
    ]);
    expect(local.out.stderr).toContain('is `npm start` running?');
    const json = io({ KF_BRIDGE_URL: 'https://api.example', KF_BRIDGE_API_KEY: 'k' });
    expect(await runCli(['mp-sessions', 'get', '--openid', 'o 1', '--app', 'sales', '--json'], json.io)).toBe(
      EXIT.unreachable,
    );
    expect(json.out.fetched).toEqual(['https://api.example/v1/admin/mp/sessions/o%201?app=sales']);
    expect(JSON.parse(json.out.stderr)).toEqual({
      error: 'cannot reach the kf-bridge API at https://api.example (ECONNREFUSED)',
    });
  });
  it('names each invalid flag once, as a flag, one line per problem', async () => {
    const missing = io();
    expect(await runCli(['kf-accounts', 'update', '--name', '售后', '--local'], missing.io)).toBe(EXIT.usage);
    expect(missing.out.stderr).toBe('kf-bridge: --open-kf-id is required\n');
    const two = io();
    expect(await runCli(['kf-accounts', 'update', '--open-kf-id', 'wk1', '--local'], two.io)).toBe(
      EXIT.usage,
    );
    expect(two.out.stderr).toBe('kf-bridge: --name or --avatar required\n');
    const several = io();
    const args = ['servicers', 'add', '--user-ids', 'a b', '--department-ids', '0', '--local'];
    expect(await runCli(args, several.io)).toBe(EXIT.usage);
    expect(several.out.stderr).toBe(
      'kf-bridge: --open-kf-id is required\nkf-bridge: --department-ids must be at least 1\n',
    );
    const json = io();
    expect(await runCli(['kf-accounts', 'update', '--name', 'x', '--local', '--json'], json.io)).toBe(
      EXIT.usage,
    );
    expect(JSON.parse(json.out.stderr)).toEqual({
      error: 'kf-accounts update: openKfId is required',
      issues: [{ path: 'openKfId', message: 'openKfId is required' }],
    });
    expect([missing, two, several, json].flatMap((run) => run.out.fetched)).toEqual([]);
  });
});

describe('kf-bridge CLI on a failed function', () => {
  const json = (status: number, body: object) => () =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  it('exits 1 with a short error when the function failed (API Gateway answers 500)', async () => {
    const failed = io({}, json(500, { message: 'Internal Server Error' }));
    expect(await runCli(['kf-accounts', 'list', '--local'], failed.io)).toBe(EXIT.failed);
    expect(failed.out.stderr).toBe('kf-bridge: the API failed (HTTP 500): Internal Server Error\n');
    expect(failed.out.stdout).toBe('');
  });

  it('exits 1 on a Lambda error answered as a success, without its stack trace', async () => {
    const lambdaError = {
      errorMessage: "Cannot find module '/srv/.esbuild/.build/functions/api.js'\nRequire stack: …",
      errorType: 'Error',
      stackTrace: ['Error: Cannot find module', '    at importModule'],
    };
    const failed = io({}, json(200, lambdaError));
    expect(await runCli(['kf-accounts', 'list', '--local', '--json'], failed.io)).toBe(EXIT.failed);
    expect(JSON.parse(failed.out.stderr)).toEqual({
      error: "the API failed (HTTP 200): Cannot find module '/srv/.esbuild/.build/functions/api.js'",
    });
    expect(failed.out.stdout).toBe('');
  });
});

describe('kf-bridge dlq', () => {
  it('takes the queue and the message id as arguments, and shows them so in its help', async () => {
    const help = io();
    expect(await runCli(['dlq', 'show', '--help'], help.io)).toBe(EXIT.done);
    expect(help.out.stdout).toContain('Usage: npx kf-bridge dlq show <queue> <message-id> [--app NAME]');
    expect(help.out.stdout).toContain('API: GET /v1/admin/dlq/{queue}/messages/{messageId}');
    const list = io({ HTTP_PORT: '3999' });
    expect(await runCli(['dlq', 'list', 'outbound', '--local'], list.io)).toBe(EXIT.unreachable);
    expect(list.out.fetched).toEqual(['http://127.0.0.1:3999/v1/admin/dlq/outbound/messages?app=default']);
    const show = io({ HTTP_PORT: '3999' });
    expect(await runCli(['dlq', 'show', 'inbound', 'id 1', '--local'], show.io)).toBe(EXIT.unreachable);
    expect(show.out.fetched).toEqual([
      'http://127.0.0.1:3999/v1/admin/dlq/inbound/messages/id%201?app=default',
    ]);
  });

  it('refuses a missing or unknown queue, a missing reason, an extra argument and a queue given twice, calling nothing', async () => {
    const cases: [string[], string][] = [
      [['dlq', 'list', '--local'], 'kf-bridge: --queue '],
      [['dlq', 'list', 'orders', '--local'], 'kf-bridge: --queue '],
      [['dlq', 'discard', 'outbound', 'id-1', '--local'], 'kf-bridge: --reason '],
      [
        ['dlq', 'show', 'outbound', 'id-1', 'id-2', '--local'],
        "kf-bridge: unexpected 'id-2'; flags start with --",
      ],
      [
        ['dlq', 'list', 'outbound', '--queue', 'inbound', '--local'],
        'kf-bridge: give <queue> once, as an argument or as --queue',
      ],
    ];
    for (const [argv, error] of cases) {
      const run = io();
      expect(await runCli(argv, run.io), argv.join(' ')).toBe(EXIT.usage);
      expect(run.out.stderr, argv.join(' ')).toContain(error);
      expect(run.out.fetched).toEqual([]);
    }
  });
});

describe('kf-bridge trace', () => {
  it('is a command by itself, taking the id as its argument', async () => {
    const general = io();
    expect(await runCli(['--help'], general.io)).toBe(EXIT.done);
    expect(general.out.stdout).toContain('  trace            <id>\n');
    const help = io();
    expect(await runCli(['trace', '--help'], help.io)).toBe(EXIT.done);
    expect(help.out.stdout).toContain('Usage: npx kf-bridge trace <id> [--app NAME]');
    expect(help.out.stdout).toContain('API: GET /v1/admin/trace/{id}');
    const traced = io({ HTTP_PORT: '3999' });
    expect(await runCli(['trace', 'msg/1', '--app', 'sales', '--local'], traced.io)).toBe(EXIT.unreachable);
    expect(traced.out.fetched).toEqual(['http://127.0.0.1:3999/v1/admin/trace/msg%2F1?app=sales']);
  });

  it('refuses a missing id, a second one and an unknown flag, calling nothing', async () => {
    const cases: [string[], string][] = [
      [['trace', '--local'], '--id is required'],
      [['trace', 'a', 'b', '--local'], "kf-bridge: unexpected 'b'; flags start with --"],
      [['trace', 'a', '--queue', 'outbound', '--local'], 'kf-bridge: trace has no flag --queue; see --help'],
    ];
    for (const [argv, error] of cases) {
      const run = io();
      expect(await runCli(argv, run.io), argv.join(' ')).toBe(EXIT.usage);
      expect(run.out.stderr, argv.join(' ')).toContain(error);
      expect(run.out.fetched).toEqual([]);
    }
  });

  it("exits 2 with the API's words when nothing has the id", async () => {
    const missing = io(
      {},
      () =>
        new Response(JSON.stringify({ error: "nothing of app 'default' has the id x: …" }), {
          status: 404,
          headers: { 'content-type': 'application/json' },
        }),
    );
    expect(await runCli(['trace', 'x', '--local'], missing.io)).toBe(EXIT.usage);
    expect(missing.out.stderr).toBe("kf-bridge: nothing of app 'default' has the id x: …\n");
  });
});

describe('flags', () => {
  it('reads --name value, --name=value, repeats and comma lists, numbers and booleans by the schema', async () => {
    const parsed = parseArgs(
      ['--user-ids', 'a,b', '--user-ids=c', '--with-x', '--limit', '5'],
      new Set(['with-x']),
    );
    expect(parsed.flags.get('user-ids')).toEqual(['a,b', 'c']);
    const flags = [
      { field: 'userIds', name: 'user-ids', schema: { type: 'array', items: { type: 'string' } } },
      { field: 'withX', name: 'with-x', schema: { type: 'boolean' } },
      { field: 'limit', name: 'limit', schema: { type: 'integer' } },
    ].map((flag) => ({ ...flag, required: false, file: false }) as Flag);
    expect(await inputFrom(flags, parsed.flags, async () => Buffer.alloc(0))).toEqual({
      userIds: ['a', 'b', 'c'],
      withX: true,
      limit: 5,
    });
    await expect(
      inputFrom(flags, new Map([['limit', ['five']]]), async () => Buffer.alloc(0)),
    ).rejects.toThrow("--limit must be a number, not 'five'");
    expect(() => parseArgs(['--name'])).toThrow(UsageError);
  });

  it('sends a file flag as a URL, an S3 object, a media id, or the file read from disk', async () => {
    const avatar: Flag[] = [{ field: 'avatar', name: 'avatar', schema: {}, required: true, file: true }];
    const read = async (path: string) => Buffer.from(path);
    const given = (value: string) => inputFrom(avatar, new Map([['avatar', [value]]]), read);
    expect(await given('https://cdn.example/a.png')).toEqual({
      avatar: { url: 'https://cdn.example/a.png' },
    });
    expect(await given('s3://bucket/avatars/a.png')).toEqual({
      avatar: { s3: { bucket: 'bucket', key: 'avatars/a.png' } },
    });
    expect(await given('media:M1')).toEqual({ avatar: { mediaId: 'M1' } });
    expect(await given('./a.png')).toEqual({ avatar: { data: Buffer.from('./a.png').toString('base64') } });
  });
});

describe('render', () => {
  it('lines up tables by terminal width, Chinese taking two columns', () => {
    expect(
      render({
        accounts: [
          { openKfId: 'wk1', name: '售后客服', managedByApi: true },
          { openKfId: 'wk22', name: 'sales', managedByApi: false },
        ],
      }),
    ).toBe('open kf id  name      managed by api\nwk1         售后客服  true\nwk22        sales     false\n');
    expect(render({ state: 'servicer', stateCode: 3 })).toBe('state       servicer\nstate code  3\n');
    expect(render({ count: 0, waiting: [] })).toBe('count  0\n\nwaiting:\n(none)\n');
  });
});
