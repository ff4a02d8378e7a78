import { ofetch } from 'ofetch';
import { runInboundE2e } from '../local/e2e';
import type { RunningSimulator } from '../simulator';
import { round } from './stats';

/**
 * The simulator's own serving rate: authenticated kf API calls answered per second, sent as the sender sends
 * them (ofetch, 10 in flight) from this process. The pipeline cannot deliver faster than the platform answers.
 */
export async function measureCeiling(sim: RunningSimulator, requests = 5000, inFlight = 10) {
  const corpId = `wwbenchceiling${Date.now().toString(36)}`;
  sim.sim.createCorp({ corpId, secrets: ['ceiling-secret'] });
  const { access_token: token } = await ofetch<{ access_token: string }>(`${sim.url}/cgi-bin/gettoken`, {
    query: { corpid: corpId, corpsecret: 'ceiling-secret' },
  });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < requests) {
        const answer = await ofetch<{ errcode: number }>(`${sim.url}/cgi-bin/kf/account/list`, {
          method: 'POST',
          query: { access_token: token },
          body: { offset: 0, limit: 100 },
          retry: 0,
        });
        if (answer.errcode !== 0) throw new Error(`simulator answered errcode ${answer.errcode}`);
      }
    }),
  );
  return { msgsPerSec: round(requests / ((performance.now() - started) / 1000)) };
}

/**
 * The whole pipeline on the embedded stack with no faults: customers write all at once, the callback, the
 * puller and a consumer of inbound.fifo; then replies through outbound.fifo and the sender to the simulator.
 */
export async function measurePipeline(messages: number) {
  const result = await runInboundE2e({
    messages,
    faults: 'none',
    seed: 1,
    accounts: 4,
    customersPerAccount: 100,
    paced: false,
    pollers: 4,
  });
  const { inbound, outbound, timings } = result;
  if (inbound.delivered !== inbound.expected || outbound.delivered !== outbound.requested) {
    throw new Error(`pipeline lost messages: ${JSON.stringify({ inbound, outbound })}`);
  }
  return {
    inbound: {
      messages: inbound.delivered,
      msgsPerSec: round(inbound.delivered / (timings.inboundMs / 1000)),
    },
    outbound: {
      messages: outbound.delivered,
      msgsPerSec: round(outbound.delivered / (timings.outboundMs / 1000)),
    },
  };
}

/** Customers writing over time, as the e2e test does: what each message costs in requests at a realistic pace. */
export async function measureUsage(messages: number) {
  const result = await runInboundE2e({ messages, faults: 'none', seed: 2 });
  return { inbound: result.inbound.delivered, outbound: result.outbound.delivered, usage: result.usage };
}
