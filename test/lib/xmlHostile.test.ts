import { describe, expect, it } from 'vitest';
import { handleCallback } from '../../lib/callback/handleCallback';
import { BadRequestError } from '../../lib/errors';
import { parseWechatXml } from '../../lib/xml';
import { recordingMeter } from '../support/metrics';
import { recordingLog, recordingPublisher } from '../support/recording';
import { testConfig } from '../support/wechat';

/**
 * START_TAG's repeated attribute group pushes one backtrack entry per attribute; past
 * ~987k attributes (~4.9 MB of ` a=''`) V8's regexp stack overflows and the RangeError leaves parseWechatXml
 * as is. The old parser wrapped anything it threw in a BadRequestError ("a 400, never a 500 and an ERROR line").
 */
const hostile = `<xml><A${" a=''".repeat(1_000_000)}>x</A></xml>`;

describe('a start tag with a million attributes', () => {
  it('is refused as malformed, not thrown as a RangeError', () => {
    let thrown: unknown;
    try {
      parseWechatXml(hostile, 'callback body');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(BadRequestError);
  });

  it('is a 400 from the callback, before any signature is checked', async () => {
    const { publish } = recordingPublisher();
    const request = {
      method: 'POST',
      app: 'default',
      query: { msg_signature: 'x', timestamp: String(Math.floor(Date.now() / 1000)), nonce: 'n' },
      body: hostile,
    };
    await expect(
      handleCallback(request, {
        config: testConfig(),
        publish,
        budgets: { apply: async () => {} },
        replays: { claim: async () => 'new', processed: async () => {} },
        now: () => new Date(),
        log: recordingLog().log,
        meter: recordingMeter().meter,
      }),
    ).rejects.toMatchObject({ status: 400 });
  });
});
