import type { JsonSchema } from '../lib/contracts/jsonSchema';

/** A command-line mistake: the CLI says what is wrong and exits with the usage code. */
export class UsageError extends Error {}

export const kebab = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export interface Flag {
  readonly field: string;
  readonly name: string;
  readonly schema: JsonSchema;
  readonly required: boolean;
  readonly file: boolean;
}

/** The flags of an operation, one per input field, from its JSON Schema. */
export function flagsOf(input: JsonSchema, files: readonly string[] = []): Flag[] {
  const required = new Set((input.required ?? []) as string[]);
  return Object.entries((input.properties ?? {}) as Record<string, JsonSchema>).map(([field, schema]) => ({
    field,
    name: kebab(field),
    schema,
    required: required.has(field),
    file: files.includes(field),
  }));
}

/** The value a flag takes, as the help shows it. */
export function flagValue(flag: Flag): string {
  if (flag.file) return '<path|https-url|s3://bucket/key|media:ID>';
  const { type, items, enum: choices } = flag.schema as JsonSchema & { items?: JsonSchema };
  if (choices) return `<${(choices as unknown[]).join('|')}>`;
  if (type === 'boolean') return '';
  if (type === 'array') return `<${(items?.type as string) === 'integer' ? 'n' : 'value'},...>`;
  if (type === 'integer' || type === 'number') return '<n>';
  return '<value>';
}

export interface ParsedArgs {
  readonly positional: string[];
  /** Flags as given: name → values (a flag may repeat). */
  readonly flags: Map<string, string[]>;
}

const BOOLEAN_GLOBALS = new Set(['help', 'json', 'local']);

/** `--name value`, `--name=value`, `-h`; a flag the command knows as boolean takes no value. */
export function parseArgs(argv: readonly string[], booleans: ReadonlySet<string> = new Set()): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  const add = (name: string, value: string) => flags.set(name, [...(flags.get(name) ?? []), value]);
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    if (arg === '-h') {
      add('help', 'true');
    } else if (arg.startsWith('--')) {
      const at = arg.indexOf('=');
      const name = at < 0 ? arg.slice(2) : arg.slice(2, at);
      if (at >= 0) add(name, arg.slice(at + 1));
      else if (BOOLEAN_GLOBALS.has(name) || booleans.has(name)) add(name, 'true');
      else {
        const value = argv[index + 1];
        if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
        add(name, value);
        index++;
      }
    } else {
      positional.push(arg);
    }
  }
  return { positional, flags };
}

function scalar(flag: Flag, value: string, type: unknown): unknown {
  if (type === 'integer' || type === 'number') {
    if (!/^-?\d+(\.\d+)?$/.test(value))
      throw new UsageError(`--${flag.name} must be a number, not '${value}'`);
    return Number(value);
  }
  if (type === 'boolean') {
    if (value !== 'true' && value !== 'false') throw new UsageError(`--${flag.name} is true or false`);
    return value === 'true';
  }
  return value;
}

/** A file flag: a local path is read and sent inline; URLs, S3 objects and media ids are passed on. */
async function fileValue(value: string, readFile: (path: string) => Promise<Buffer>, flag: Flag) {
  if (value.startsWith('https://')) return { url: value };
  if (value.startsWith('media:')) return { mediaId: value.slice('media:'.length) };
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(value);
  if (s3) return { s3: { bucket: s3[1], key: s3[2] } };
  try {
    return { data: (await readFile(value)).toString('base64') };
  } catch {
    throw new UsageError(`--${flag.name}: cannot read the file ${value}`);
  }
}

/** The operation's input from the flags given; the API checks it in full. */
export async function inputFrom(
  flags: readonly Flag[],
  given: ReadonlyMap<string, string[]>,
  readFile: (path: string) => Promise<Buffer>,
): Promise<Record<string, unknown>> {
  const input: Record<string, unknown> = {};
  for (const flag of flags) {
    const values = given.get(flag.name);
    if (!values) continue;
    const last = values.at(-1) as string;
    const { type, items } = flag.schema as JsonSchema & { items?: JsonSchema };
    if (flag.file) input[flag.field] = await fileValue(last, readFile, flag);
    else if (type === 'array')
      input[flag.field] = values
        .flatMap((value) => value.split(','))
        .map((value) => value.trim())
        .filter(Boolean)
        .map((value) => scalar(flag, value, items?.type));
    else input[flag.field] = scalar(flag, last, type);
  }
  return input;
}
