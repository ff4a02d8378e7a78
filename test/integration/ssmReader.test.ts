import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSsmReader, ssmTarget } from '../../lib/config/ssmReader';
import { type MotoServer, startMotoServer } from '../support/moto';
import { describeWithPythonTools } from '../support/pythonTools';
import { type RecordingProxy, startRecordingProxy } from '../support/recordingProxy';

const REGION = 'ap-southeast-1';
const PREFIX = '/kf-bridge/reader-it/';

describeWithPythonTools('the SSM reader against SSM (moto)', () => {
  let moto: MotoServer;
  /** In front of moto: what the reader sent, as it came over the wire. */
  let proxy: RecordingProxy;
  /** 13 SecureStrings, as a deployed stage keeps its settings; seeded with the SDK's own client. */
  const stored = Object.fromEntries(
    Array.from({ length: 13 }, (_, i) => [`${PREFIX}SETTING_${i}`, `secret value ${i} ✓ "quoted"`]),
  );

  beforeAll(async () => {
    moto = await startMotoServer(REGION);
    const ssm = new SSMClient(moto.clientConfig);
    for (const [Name, Value] of Object.entries(stored))
      await ssm.send(new PutParameterCommand({ Name, Value, Type: 'SecureString' }));
    ssm.destroy();
    proxy = await startRecordingProxy(moto.endpoint);
  }, 60_000);
  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
  });

  it('reads more than 10 settings in calls of 10, decrypted, and leaves out the ones SSM does not have', async () => {
    const read = createSsmReader(() =>
      ssmTarget({ AWS_REGION: REGION, KF_BRIDGE_LOCAL_ENDPOINTS: `ssm=${proxy.endpoint}` }),
    );
    const missing = [`${PREFIX}NOT_SET`, `${PREFIX}SALES_MP_TOKEN`];
    const names = [...Object.keys(stored).slice(0, 9), ...missing, ...Object.keys(stored).slice(9)];

    const values = await read(names);

    expect(values).toEqual(stored);
    const sent = proxy.received.map((request) => (JSON.parse(request.body) as { Names: string[] }).Names);
    expect(sent).toEqual([names.slice(0, 10), names.slice(10)]);
  });

  it('reads them over its own transport (node:http, a kept-alive connection) as it does on a deployed stage', async () => {
    const read = createSsmReader(() =>
      ssmTarget({ AWS_REGION: REGION, KF_BRIDGE_LOCAL_ENDPOINTS: `ssm=${moto.endpoint}` }),
    );
    const names = [...Object.keys(stored), `${PREFIX}NOT_SET`];

    expect(await read(names)).toEqual(stored);
    expect(await read(names.slice(0, 1))).toEqual({ [names[0] as string]: stored[names[0] as string] });
  });
});
