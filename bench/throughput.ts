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
 * The whole pipeline on the embedded stack with no faults, everything in this process: customers write at a
 * platform's pace (5 messages every 25 ms), the callback, the puller and a consumer of inbound.fifo; then
 * replies through outbound.fifo and the sender to the simulator. Informational: the rate is bounded by the
 * pace and by this process's CPU, most of which goes to the simulator, fauxqs and the harness (`processCpuMs`
 * is all of it, DynamoDB Local's apart).
 */
export async function measurePipeline(messages: number) {
  const cpu = process.cpuUsage();
  const result = await runInboundE2e({
    messages,
    faults: 'none',
    seed: 1,
    accounts: 4,
    customersPerAccount: 100,
    paced: true,
    pollers: 4,
  });
  const { user, system } = process.cpuUsage(cpu);
  const { inbound, outbound, timings } = result;
  // A reply the product refuses by the platform's rules (an MP "typing" more than 30 s after the follower wrote,
  // which a slow run can post) is answered, not lost.
  if (
    inbound.delivered !== inbound.expected ||
    inbound.duplicates > 0 ||
    outbound.delivered + outbound.rejected !== outbound.requested ||
    outbound.duplicates > 0
  ) {
    throw new Error(`pipeline lost or repeated messages: ${JSON.stringify({ inbound, outbound })}`);
  }
  return {
    inbound: {
      messages: inbound.delivered,
      msgsPerSec: round(inbound.delivered / (timings.inboundMs / 1000)),
    },
    outbound: {
      messages: outbound.delivered,
      rejected: outbound.rejected,
      msgsPerSec: round(outbound.delivered / (timings.outboundMs / 1000)),
    },
    processCpuMs: round((user + system) / 1000),
  };
}
