import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The local system's ports: each has one variable, honoured by `npm start`, `npm run sim`, the CLI's `--local`,
 * `npm run export` and `serverless invoke local` (serverless.yml's custom.localPorts, through deploy/localPorts.js).
 */
export const LOCAL_PORTS = {
  http: { variable: 'HTTP_PORT', fallback: 3000 },
  lambda: { variable: 'LAMBDA_PORT', fallback: 3002 },
  dynamodb: { variable: 'DYNAMODB_PORT', fallback: 8000 },
  fauxqs: { variable: 'FAUXQS_PORT', fallback: 4566 },
  sim: { variable: 'SIM_PORT', fallback: 4001 },
} as const;

export type PortName = keyof typeof LOCAL_PORTS;
export type LocalPorts = Record<PortName, number>;

/** Where a running `npm start` records what it runs where (git-ignored; removed when it stops). */
export const LOCAL_RECORD_FILE = new URL('../.kf-bridge/local.json', import.meta.url).pathname;

export interface LocalEndpoints {
  readonly ports: LocalPorts;
  readonly apiUrl: string;
  readonly lambdaUrl: string;
  readonly simulatorUrl: string;
  readonly dynamodb: string;
  readonly sqs: string;
  readonly s3: string;
}

/** What `npm start` writes to LOCAL_RECORD_FILE. */
export interface LocalRecord extends LocalEndpoints {
  readonly pid: number;
  readonly region: string;
  readonly queues: Record<string, string>;
}

const portNames = Object.keys(LOCAL_PORTS) as PortName[];

const isPort = (value: unknown): value is number =>
  Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;

function portNumber(text: string, what: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || !isPort(port))
    throw new Error(`${what} must be a port number from 1 to 65535, not '${text}'`);
  return port;
}

/** The ports the environment asks for, each its variable or its default. */
export function portsFrom(env: NodeJS.ProcessEnv): LocalPorts {
  return Object.fromEntries(
    portNames.map((name) => {
      const { variable, fallback } = LOCAL_PORTS[name];
      const value = env[variable];
      return [name, value ? portNumber(value, variable) : fallback];
    }),
  ) as LocalPorts;
}

export function endpointsOf(ports: LocalPorts): LocalEndpoints {
  const loopback = (port: number) => `http://127.0.0.1:${port}`;
  return {
    ports,
    apiUrl: loopback(ports.http),
    lambdaUrl: loopback(ports.lambda),
    simulatorUrl: loopback(ports.sim),
    dynamodb: loopback(ports.dynamodb),
    sqs: loopback(ports.fauxqs),
    s3: loopback(ports.fauxqs),
  };
}

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

type Warn = (line: string) => void;

const isRecord = (value: unknown): value is Pick<LocalRecord, 'pid' | 'ports'> => {
  const { pid, ports } = (value ?? {}) as Partial<LocalRecord>;
  return (
    Number.isInteger(pid) &&
    (pid as number) > 0 &&
    typeof ports === 'object' &&
    ports !== null &&
    portNames.every((name) => isPort(ports[name]))
  );
};

/**
 * The pid and ports of the `npm start` running in this clone, if one is. A record that cannot be read as one
 * (cut short, edited by hand) is set aside with a line saying so; one whose `npm start` is gone, silently.
 */
export async function readLocalRecord(
  file = LOCAL_RECORD_FILE,
  warn: Warn = console.warn,
): Promise<Pick<LocalRecord, 'pid' | 'ports'> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    // Reported below, as any other content that is not a record.
  }
  if (!isRecord(record)) {
    warn(`ignoring ${file}: not the record of a running npm start; using the port variables and defaults`);
    return undefined;
  }
  return isRunning(record.pid) ? record : undefined;
}

/**
 * Where the local system is: a port's variable when set, else what the running `npm start` recorded, else the
 * default.
 */
export async function localEndpoints(
  env: NodeJS.ProcessEnv,
  file = LOCAL_RECORD_FILE,
  warn: Warn = console.warn,
): Promise<LocalEndpoints> {
  const recorded = (await readLocalRecord(file, warn))?.ports;
  const defaults = portsFrom({});
  const chosen = portsFrom(env);
  return endpointsOf(
    Object.fromEntries(
      portNames.map((name) => [
        name,
        env[LOCAL_PORTS[name].variable] ? chosen[name] : (recorded?.[name] ?? defaults[name]),
      ]),
    ) as LocalPorts,
  );
}

/**
 * The ports serverless.yml gives a stage: the local stage's by localEndpoints' rule; any other stage, which
 * runs nothing on this machine, the defaults, with neither the record nor the variables read.
 */
export async function stagePorts(
  stage: string,
  env: NodeJS.ProcessEnv,
  file = LOCAL_RECORD_FILE,
  warn: Warn = console.warn,
): Promise<LocalPorts> {
  return stage === 'local' ? (await localEndpoints(env, file, warn)).ports : portsFrom({});
}

/** Written to a temporary file and renamed over the record, so a reader sees the old record or the new, whole. */
export async function writeLocalRecord(record: LocalRecord, file = LOCAL_RECORD_FILE): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`);
  await rename(temporary, file);
}

/** Removes the record if it is this process's own (a second `npm start` that failed leaves the first's). */
export async function removeLocalRecord(file = LOCAL_RECORD_FILE): Promise<void> {
  const record = await readLocalRecord(file, () => {});
  if (record?.pid === process.pid) await rm(file, { force: true });
}
