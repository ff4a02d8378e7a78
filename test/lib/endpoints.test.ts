import { spawnSync } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  endpointsOf,
  localEndpoints,
  portsFrom,
  readLocalRecord,
  removeLocalRecord,
  stagePorts,
  writeLocalRecord,
} from '../../local/endpoints';
import { localFunctionEnvironment, type ServiceDefinition } from '../../local/serviceDefinition';

const DEFAULTS = { http: 3000, lambda: 3002, dynamodb: 8000, fauxqs: 4566, sim: 4001 };

let folder: string;
let file: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'kf-bridge-endpoints-'));
  file = join(folder, 'local.json');
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** A record as `npm start` (pid) writes it, on every default port plus 100. */
const recordOf = (pid: number) => ({
  ...endpointsOf(
    portsFrom({
      HTTP_PORT: '3100',
      LAMBDA_PORT: '3102',
      DYNAMODB_PORT: '8100',
      FAUXQS_PORT: '4666',
      SIM_PORT: '4101',
    }),
  ),
  pid,
  region: 'ap-southeast-1',
  queues: { InboundQueue: 'http://127.0.0.1:4666/000000000000/kf-bridge-local-inbound.fifo' },
});

describe('local endpoints', () => {
  it('takes each port from its variable, else the documented default', () => {
    expect(portsFrom({})).toEqual(DEFAULTS);
    expect(portsFrom({ SIM_PORT: '4101', DYNAMODB_PORT: '8100' })).toEqual({
      ...DEFAULTS,
      sim: 4101,
      dynamodb: 8100,
    });
  });

  it('refuses a variable that is not a port, naming it', () => {
    expect(() => portsFrom({ FAUXQS_PORT: 'abc' })).toThrow(
      "FAUXQS_PORT must be a port number from 1 to 65535, not 'abc'",
    );
    expect(() => portsFrom({ HTTP_PORT: '70000' })).toThrow('HTTP_PORT must be a port number');
  });

  it('finds what a running npm start recorded, with a variable set by hand winning', async () => {
    await writeLocalRecord(recordOf(process.pid), file);
    expect(await localEndpoints({}, file)).toEqual({
      ports: { http: 3100, lambda: 3102, dynamodb: 8100, fauxqs: 4666, sim: 4101 },
      apiUrl: 'http://127.0.0.1:3100',
      lambdaUrl: 'http://127.0.0.1:3102',
      simulatorUrl: 'http://127.0.0.1:4101',
      dynamodb: 'http://127.0.0.1:8100',
      sqs: 'http://127.0.0.1:4666',
      s3: 'http://127.0.0.1:4666',
    });
    expect((await localEndpoints({ HTTP_PORT: '3999' }, file)).apiUrl).toBe('http://127.0.0.1:3999');
  });

  it('falls back to the defaults when nothing runs: no record, or the record of an npm start that is gone', async () => {
    expect((await localEndpoints({}, file)).ports).toEqual(DEFAULTS);
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    await writeLocalRecord(recordOf(gone), file);
    expect(await readLocalRecord(file)).toBeUndefined();
    expect((await localEndpoints({}, file)).ports).toEqual(DEFAULTS);
  });

  it("removes its own record on stop, never another npm start's", async () => {
    await writeLocalRecord(recordOf(process.pid), file);
    await removeLocalRecord(file);
    expect(await readLocalRecord(file)).toBeUndefined();
    await writeLocalRecord(recordOf(process.ppid), file);
    await removeLocalRecord(file);
    expect((await readLocalRecord(file))?.pid).toBe(process.ppid);
  });

  it('treats a corrupt, half-written or null record as absent, saying so in one line', async () => {
    for (const text of ['{"pid": 12, "ports": {"http": 31', 'null', '[]', '{"ports": {}}']) {
      await writeFile(file, text);
      const lines: string[] = [];
      expect(await readLocalRecord(file, (line) => lines.push(line))).toBeUndefined();
      expect((await localEndpoints({}, file, () => {})).ports).toEqual(DEFAULTS);
      expect(lines).toEqual([
        `ignoring ${file}: not the record of a running npm start; using the port variables and defaults`,
      ]);
    }
  });

  it('ignores a record whose ports are not port numbers, so no URL points anywhere but this machine', async () => {
    for (const http of ['@evil.example', 70000, 0, 3000.5, '3100']) {
      const record = { ...recordOf(process.pid), ports: { ...recordOf(process.pid).ports, http } };
      await writeFile(file, JSON.stringify(record));
      expect((await localEndpoints({}, file, () => {})).apiUrl).toBe('http://127.0.0.1:3000');
    }
  });

  it('replaces the record whole: a reader that opened the previous one never sees it cut short', async () => {
    await writeLocalRecord(recordOf(process.ppid), file);
    const previous = await open(file);
    try {
      await writeLocalRecord(recordOf(process.pid), file);
      expect(JSON.parse(await previous.readFile('utf8')).pid).toBe(process.ppid);
      expect((await readLocalRecord(file))?.pid).toBe(process.pid);
    } finally {
      await previous.close();
    }
  });

  it("gives serverless.yml the local stage's ports by the same rule, and any other stage the defaults unread", async () => {
    await writeLocalRecord(recordOf(process.pid), file);
    expect(await stagePorts('local', { SIM_PORT: '4999' }, file)).toEqual({
      http: 3100,
      lambda: 3102,
      dynamodb: 8100,
      fauxqs: 4666,
      sim: 4999,
    });
    await writeFile(file, '{');
    const lines: string[] = [];
    expect(await stagePorts('prod', { HTTP_PORT: 'abc' }, file, (line) => lines.push(line))).toEqual(
      DEFAULTS,
    );
    expect(lines).toEqual([]);
  });

  it("points the functions' environment at the chosen ports, each port replaced once", () => {
    const definition = {
      environment: {
        KF_BRIDGE_LOCAL_ENDPOINTS:
          'sqs=http://127.0.0.1:4566,s3=http://127.0.0.1:4566,dynamodb=http://127.0.0.1:8000',
        WECOM_API_BASE: 'http://127.0.0.1:4001',
        INBOUND_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/kf-bridge-local-inbound.fifo',
      },
    } as unknown as ServiceDefinition;
    // FAUXQS_PORT on DynamoDB's default: the queues must not then move to DYNAMODB_PORT.
    const ports = portsFrom({ FAUXQS_PORT: '8000', DYNAMODB_PORT: '8001', SIM_PORT: '4101' });
    expect(localFunctionEnvironment(definition, { MP_APP_ID: 'wx1' }, ports)).toEqual({
      KF_BRIDGE_LOCAL_ENDPOINTS:
        'sqs=http://127.0.0.1:8000,s3=http://127.0.0.1:8000,dynamodb=http://127.0.0.1:8001',
      WECOM_API_BASE: 'http://127.0.0.1:4101',
      INBOUND_QUEUE_URL: 'http://127.0.0.1:8000/000000000000/kf-bridge-local-inbound.fifo',
      MP_APP_ID: 'wx1',
    });
  });
});
