import { ADMIN_OPERATIONS, inputJsonSchema, operationName, pathFields } from '../lib/admin/catalogue';
import type { AdminOperation } from '../lib/admin/operation';
import { validate } from '../lib/contracts/validate';
import { ContractError } from '../lib/errors';
import { type Flag, flagsOf, flagValue, inputFrom, kebab, parseArgs, UsageError } from './flags';
import { inFlags, render } from './render';

/** Exit codes scripts can rely on. */
export const EXIT = { done: 0, failed: 1, usage: 2, refused: 3, unreachable: 4, retryLater: 5 } as const;

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly fetch: typeof fetch;
  readonly readFile: (path: string) => Promise<Buffer>;
  /** The admin key `npm start` runs with unless ADMIN_API_KEY overrides it (serverless.yml's local stage). */
  readonly localAdminKey: () => Promise<string>;
  /** Where `npm start` serves the HTTP API (local/endpoints.ts: HTTP_PORT, else its record, else 3000). */
  readonly localApiUrl: () => Promise<string>;
}

const GLOBAL_FLAGS = ['app', 'json', 'local', 'url', 'api-key', 'help'];
const GROUPS = [...new Set(ADMIN_OPERATIONS.map((operation) => operation.group))];

/** A group's commands; a group that is a command itself, its arguments. */
function groupLine(group: string): string {
  const operations = ADMIN_OPERATIONS.filter((o) => o.group === group);
  const itself = operations.find((o) => o.command === undefined);
  if (itself) return (itself.positional ?? []).map((field) => `<${kebab(field)}>`).join(' ');
  return operations.map((o) => o.command).join(', ');
}

const GENERAL_HELP = `kf-bridge: administer WeCom kf and Official Account customer service

Usage: npx kf-bridge <group> <command> [flags]

${GROUPS.map((group) => `  ${group.padEnd(17)}${groupLine(group)}`).join('\n')}

Where to:
  --local                  the system \`npm start\` runs here, against its simulator
                           (HTTP_PORT, else where it recorded it runs, default 3000;
                           ADMIN_API_KEY, default the local one)
  --url URL --api-key KEY  a deployed stage: its ApiUrl output and ADMIN_API_KEY
                           (or KF_BRIDGE_URL and KF_BRIDGE_API_KEY in the environment)
Options:
  --app NAME               the configured app to act for (default "default")
  --json                   JSON on stdout (errors as JSON on stderr), for scripts
  -h, --help               help for a group or a command

Exit codes:
  0  done
  1  an unexpected failure
  2  a usage mistake or invalid input (nothing was sent to the platform)
  3  the platform refused: the whole operation, or some of its items
  4  the API could not be reached, or refused the API key
  5  rate-limited or busy: try again later
`;

function groupHelp(group: string): string {
  const operations = ADMIN_OPERATIONS.filter((operation) => operation.group === group);
  const lines = operations.map(
    (operation) => `  ${(operation.command ?? '').padEnd(10)}${operation.summary}`,
  );
  return `Usage: npx kf-bridge ${group} <command> [flags]\n\n${lines.join('\n')}\n\nnpx kf-bridge ${group} <command> --help shows a command's flags.\n`;
}

function commandHelp(operation: AdminOperation, flags: readonly Flag[]): string {
  const ordered = [...flags].sort((a, b) => Number(b.required) - Number(a.required));
  const positional = operation.positional ?? [];
  const usage = [
    ...positional.map((field) => `<${kebab(field)}>`),
    ...ordered
      .filter((flag) => flag.required && !positional.includes(flag.field))
      .map((flag) => `--${flag.name} ${flagValue(flag)}`.trim()),
  ].join(' ');
  const rows = ordered.map((flag) => {
    const left = `  --${flag.name} ${flagValue(flag)}`.trimEnd();
    const notes = [flag.required ? 'required' : '', (flag.schema.description as string | undefined) ?? '']
      .filter(Boolean)
      .join('; ');
    return notes ? `${left.padEnd(34)} ${notes}` : left;
  });
  return [
    operation.summary,
    '',
    `Usage: npx kf-bridge ${operationName(operation)} ${usage} [--app NAME] [--json] (--local | --url URL --api-key KEY)`.replace(
      /\s+/g,
      ' ',
    ),
    '',
    rows.length > 0 ? 'Flags:' : 'No flags of its own.',
    ...rows,
    '',
    `API: ${operation.method} ${operation.path}`,
    '',
  ].join('\n');
}

/** Where the CLI sends its calls, and with which key. */
async function targetOf(
  flags: ReadonlyMap<string, string[]>,
  io: CliIo,
): Promise<{ url: string; key: string }> {
  const flag = (name: string) => flags.get(name)?.at(-1);
  if (flags.has('local')) {
    if (flag('url')) throw new UsageError('give --local or --url, not both');
    return {
      url: await io.localApiUrl(),
      key: flag('api-key') ?? (io.env.ADMIN_API_KEY || (await io.localAdminKey())),
    };
  }
  const url = flag('url') ?? io.env.KF_BRIDGE_URL;
  const key = flag('api-key') ?? io.env.KF_BRIDGE_API_KEY;
  if (!url) throw new UsageError('say where: --local, or --url (KF_BRIDGE_URL) for a deployed stage');
  if (!/^https?:\/\//.test(url)) throw new UsageError('--url must be an http(s) URL');
  if (!key) throw new UsageError('--api-key (KF_BRIDGE_API_KEY) is needed with --url');
  return { url: url.replace(/\/+$/, ''), key };
}

interface ApiAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

class Unreachable extends Error {}

async function callApi(
  operation: AdminOperation,
  input: Record<string, unknown>,
  target: { url: string; key: string },
  app: string,
  io: CliIo,
): Promise<ApiAnswer> {
  const inPath = pathFields(operation);
  const path = operation.path.replace(/\{(\w+)\}/g, (_, field: string) =>
    encodeURIComponent(String(input[field])),
  );
  const rest = Object.fromEntries(Object.entries(input).filter(([field]) => !inPath.includes(field)));
  const query = new URLSearchParams({ app });
  const inQuery = operation.method === 'GET' || operation.method === 'DELETE';
  if (inQuery) for (const [field, value] of Object.entries(rest)) query.set(field, String(value));
  let response: Response;
  try {
    response = await io.fetch(`${target.url}${path}?${query}`, {
      method: operation.method,
      headers: { 'x-api-key': target.key, ...(!inQuery && { 'content-type': 'application/json' }) },
      ...(!inQuery && { body: JSON.stringify(rest) }),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new Unreachable(`cannot reach the kf-bridge API at ${target.url} (${cause})`);
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return {
      status: response.status,
      body: { error: `the API answered HTTP ${response.status} without JSON` },
    };
  }
}

/**
 * What went wrong, in the API's words: its own `error`; API Gateway's `message` when the function failed; a
 * Lambda error's `errorMessage` if something answered one as a success.
 */
function failureOf(answer: ApiAnswer): string {
  const { error, message, errorMessage } = answer.body;
  if (typeof error === 'string') return error;
  const said = typeof message === 'string' ? message : typeof errorMessage === 'string' ? errorMessage : '';
  return `the API failed (HTTP ${answer.status})${said ? `: ${said.split('\n')[0]}` : ''}`;
}

/** The exit code of an answer the API refused, by its status and whether the platform gave an errcode. */
function refusalCode(answer: ApiAnswer): number {
  const { status } = answer;
  if (status === 401) return EXIT.unreachable;
  if (status === 429 || status === 503) return EXIT.retryLater;
  if (answer.body.errcode !== undefined) return EXIT.refused;
  if (status === 400 || status === 404 || status === 405 || status === 413) return EXIT.usage;
  return EXIT.failed;
}

function reportError(
  io: CliIo,
  json: boolean,
  error: { error: string; errcode?: unknown; issues?: { path: string; message: string }[] },
  hint?: string,
  fields: readonly string[] = [],
): void {
  if (json) {
    io.stderr(`${JSON.stringify(error)}\n`);
    return;
  }
  // Each invalid field on a line of its own; the error then only repeats them.
  const problems = error.issues?.length
    ? error.issues.map((issue) => inFlags(issue.message, fields))
    : [error.error];
  const lines = problems.map((problem) => `kf-bridge: ${problem}`);
  if (hint) lines.push(hint);
  io.stderr(`${lines.join('\n')}\n`);
}

/** A list op answers `nextOffset` while more may follow: without --offset the CLI pages to the end. */
async function allPages(first: ApiAnswer, next: (offset: number) => Promise<ApiAnswer>): Promise<ApiAnswer> {
  let answer = first;
  const merged = { ...first.body };
  while (answer.status < 300 && typeof answer.body.nextOffset === 'number') {
    answer = await next(answer.body.nextOffset);
    if (answer.status >= 300) return answer;
    for (const [field, value] of Object.entries(answer.body))
      if (Array.isArray(value)) merged[field] = [...((merged[field] as unknown[]) ?? []), ...value];
  }
  delete merged.nextOffset;
  return { status: first.status, body: merged };
}

/** Runs `kf-bridge <group> <command> [flags]` and answers the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  let fields: string[] = [];
  try {
    const [group, command] = argv;
    if (!group || group.startsWith('-')) {
      if (argv.includes('--help') || argv.includes('-h') || argv.length === 0) {
        io.stdout(GENERAL_HELP);
        return argv.length === 0 ? EXIT.usage : EXIT.done;
      }
      throw new UsageError('name a group and a command; see --help');
    }
    if (!GROUPS.includes(group))
      throw new UsageError(`no group '${group}'; the groups are ${GROUPS.join(', ')}`);
    const itself = ADMIN_OPERATIONS.find((o) => o.group === group && o.command === undefined);
    const operation = itself ?? ADMIN_OPERATIONS.find((o) => o.group === group && o.command === command);
    if (!operation) {
      if (!command || command.startsWith('-')) {
        io.stdout(groupHelp(group));
        return command === '--help' || command === '-h' ? EXIT.done : EXIT.usage;
      }
      const commands = ADMIN_OPERATIONS.filter((o) => o.group === group).map((o) => o.command);
      throw new UsageError(`no command '${command}' in ${group}; the commands are ${commands.join(', ')}`);
    }
    const flags = flagsOf(inputJsonSchema(operation), operation.files);
    fields = flags.map((flag) => flag.field);
    const booleans = new Set(flags.filter((flag) => flag.schema.type === 'boolean').map((flag) => flag.name));
    const parsed = parseArgs(argv.slice(itself ? 1 : 2), booleans);
    if (parsed.flags.has('help')) {
      io.stdout(commandHelp(operation, flags));
      return EXIT.done;
    }
    const positional = operation.positional ?? [];
    if (parsed.positional.length > positional.length)
      throw new UsageError(`unexpected '${parsed.positional[positional.length]}'; flags start with --`);
    for (const [index, value] of parsed.positional.entries()) {
      const name = kebab(positional[index] as string);
      if (parsed.flags.has(name)) throw new UsageError(`give <${name}> once, as an argument or as --${name}`);
      parsed.flags.set(name, [value]);
    }
    for (const name of parsed.flags.keys()) {
      if (!GLOBAL_FLAGS.includes(name) && !flags.some((flag) => flag.name === name))
        throw new UsageError(`${operationName(operation)} has no flag --${name}; see --help`);
    }
    const input = await inputFrom(flags, parsed.flags, io.readFile);
    // Checked here too, so a mistake costs no call; the API checks again with the same schema.
    validate(operation.input, input, operationName(operation));
    const target = await targetOf(parsed.flags, io);
    const app = parsed.flags.get('app')?.at(-1) ?? 'default';
    const call = (extra: Record<string, unknown> = {}) =>
      callApi(operation, { ...input, ...extra }, target, app, io);
    let answer = await call();
    if (input.offset === undefined && input.limit === undefined)
      answer = await allPages(answer, (offset) => call({ offset }));
    if (answer.status >= 300 || answer.body.errorMessage !== undefined) {
      const code = answer.status >= 300 ? refusalCode(answer) : EXIT.failed;
      const hint = code === EXIT.unreachable ? 'check --api-key (ADMIN_API_KEY of the stage)' : undefined;
      // A Lambda error's stack trace is for the logs, not for the caller.
      const body = answer.body.errorMessage === undefined ? answer.body : {};
      reportError(io, json, { ...body, error: failureOf(answer) }, hint, fields);
      return code;
    }
    io.stdout(json ? `${JSON.stringify(answer.body, null, 2)}\n` : render(answer.body));
    return typeof answer.body.refused === 'number' && answer.body.refused > 0 ? EXIT.refused : EXIT.done;
  } catch (error) {
    if (error instanceof ContractError) {
      reportError(io, json, { error: error.message, issues: error.issues }, undefined, fields);
      return EXIT.usage;
    }
    if (error instanceof UsageError) {
      reportError(io, json, { error: error.message });
      return EXIT.usage;
    }
    if (error instanceof Unreachable) {
      reportError(
        io,
        json,
        { error: error.message },
        argv.includes('--local') ? 'is `npm start` running?' : undefined,
      );
      return EXIT.unreachable;
    }
    reportError(io, json, { error: `unexpected failure: ${(error as Error).message}` });
    return EXIT.failed;
  }
}
