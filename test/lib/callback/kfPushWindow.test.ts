import { describe, expect, it } from 'vitest';
import { type CallbackRequest, handleCallback } from '../../../lib/callback/handleCallback';
import { parseSyncJob } from '../../../lib/contracts/syncJob';
import type { FifoMessage } from '../../../lib/queue/publisher';
import { recordingMeter } from '../../support/metrics';
import { recordingLog } from '../../support/recording';
import { kfEventXml, testConfig, wecomPost } from '../../support/wechat';

/** SQS FIFO deduplication as AWS documents it: an id sent in the last 5 minutes is accepted but not delivered. */
function fifo(clock: { now: number }) {
  const lastSent = new Map<string, number>();
  const delivered: FifoMessage[] = [];
  const publish = async (_url: string, message: FifoMessage) => {
    const id = message.deduplicationId ?? '';
    const at = lastSent.get(id);
    if (at !== undefined && clock.now - at < 300_000) return;
    lastSent.set(id, clock.now);
    delivered.push(message);
  };
  return { publish, delivered };
}

const unused = async (): Promise<never> => {
  throw new Error('a WeCom push keeps no replay record');
};

function callback(clock: { now: number }, settings: Record<string, string> = {}) {
  const queue = fifo(clock);
  const deps = {
    config: testConfig(settings),
    publish: queue.publish,
    budgets: { apply: unused },
    replays: { claim: unused, processed: unused },
    now: () => new Date(clock.now),
    log: recordingLog().log,
    meter: recordingMeter().meter,
  };
  return { queue, call: (request: CallbackRequest) => handleCallback(request, deps) };
}

/** WeCom's clock when it pushes. */
const pushedAt = 1_800_000_000;
const push = () => wecomPost(kfEventXml('wkAAA', 'ENCtokenA'), { timestamp: String(pushedAt) });

describe("a WeCom push is taken only while a replay of it would be dropped by its job's deduplication", () => {
  it.each([
    ['our clock 50 s behind WeCom', -50, {}],
    ['our clock 50 s ahead of WeCom', 50, {}],
    ['CALLBACK_MAX_CLOCK_SKEW_SECONDS=900', 0, { CALLBACK_MAX_CLOCK_SKEW_SECONDS: '900' }],
  ])('%s: the push is one job, and every replay is dropped or refused', async (_, offset, settings) => {
    const clock = { now: (pushedAt + offset) * 1000 };
    const { queue, call } = callback(clock, settings);
    await expect(call(push())).resolves.toMatchObject({ status: 200 });
    for (let second = 1; second <= 900; second += 7) {
      clock.now = (pushedAt + offset + second) * 1000;
      await call(push()).catch((error: { status: number; message: string }) => {
        expect(error).toMatchObject({ status: 401, message: 'timestamp is outside the allowed clock skew' });
      });
    }
    expect(queue.delivered).toHaveLength(1);
  });

  it('refuses a push more than 240 s old or 60 s ahead, whatever the skew allows', async () => {
    for (const offset of [241, -61]) {
      const { queue, call } = callback(
        { now: (pushedAt + offset) * 1000 },
        { CALLBACK_MAX_CLOCK_SKEW_SECONDS: '900' },
      );
      await expect(call(push())).rejects.toMatchObject({ status: 401 });
      expect(queue.delivered).toEqual([]);
    }
  });

  it("dates the job's Token from the push, so a late push's Token is not trusted past its 10 minutes", async () => {
    const late = callback({ now: (pushedAt + 200) * 1000 });
    await late.call(push());
    expect(parseSyncJob(JSON.parse(late.queue.delivered[0]?.body ?? '')).receivedAt).toBe(
      new Date(pushedAt * 1000).toISOString(),
    );
    // A WeCom clock ahead of ours cannot make the Token look younger than its arrival.
    const early = callback({ now: (pushedAt - 30) * 1000 });
    await early.call(push());
    expect(parseSyncJob(JSON.parse(early.queue.delivered[0]?.body ?? '')).receivedAt).toBe(
      new Date((pushedAt - 30) * 1000).toISOString(),
    );
  });
});
