import { parseConfig } from '../lib/config/config';
import { itemStoreFor } from '../lib/items/signedItemStore';
import type { Log } from '../lib/logger';
import { NO_METRICS } from '../lib/metrics';
import { fetchPlatformToken } from '../lib/tokens/platformToken';
import { createTokenProvider } from '../lib/tokens/provider';
import { TokenStore } from '../lib/tokens/store';
import type { LocalStack } from '../local/stack';
import type { RunningSimulator } from '../simulator';

const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Log;

/** 1,000 callers at once, each a cold container of its own (no token in memory, none in the table yet). */
export async function measureTokenStampede(stack: LocalStack, sim: RunningSimulator, callers = 1000) {
  const corpId = `wwbenchtokens${Date.now().toString(36)}`;
  sim.sim.createCorp({ corpId, secrets: ['bench-secret'] });
  const config = parseConfig({
    SYNC_JOBS_QUEUE_URL: stack.queues.SyncJobsQueue ?? '',
    INBOUND_QUEUE_URL: stack.queues.InboundQueue ?? '',
    OUTBOUND_QUEUE_URL: stack.queues.OutboundQueue ?? '',
    STATE_TABLE: stack.tables.StateTable ?? '',
    WECOM_CORP_ID: corpId,
    WECOM_KF_SECRET: 'bench-secret',
    WECOM_CALLBACK_TOKEN: 'benchToken',
    WECOM_ENCODING_AES_KEY: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
    WECOM_API_BASE: sim.url,
  });
  const app = config.apps.get('default');
  if (!app) throw new Error('no default app');
  // The token store's item calls as the functions make them: signed requests of kf-bridge's own. The 1,000
  // containers share this one process and DynamoDB Local, so a call waits behind all the others: each is given
  // a minute rather than a function's 6 s, which here would measure the crowd, not the single flight.
  const store = new TokenStore(
    itemStoreFor(stack.env, { policy: { attemptTimeoutMs: 60_000, callTimeoutMs: 60_000 } }),
    config.stateTable,
  );
  const before = sim.sim.calls.get('gettoken') ?? 0;
  const tokens = await Promise.all(
    Array.from({ length: callers }, () =>
      createTokenProvider({
        store,
        fetchToken: fetchPlatformToken,
        now: Date.now,
        log: silent,
        meter: NO_METRICS,
      }).getToken(app, 'wecom'),
    ),
  );
  if (new Set(tokens).size !== 1) throw new Error('callers were handed different tokens');
  return { callers, gettokenCalls: (sim.sim.calls.get('gettoken') ?? 0) - before };
}
