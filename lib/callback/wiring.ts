import { BudgetStore } from '../budgets';
import type { Config } from '../config/config';
import type { ItemStore } from '../items/itemStore';
import type { Log } from '../logger';
import type { Meter } from '../metrics';
import { sqsPublisher } from '../queue/publisher';
import type { QueueClient } from '../queue/queueClient';
import { type CallbackRequest, type CallbackResponse, handleCallback } from './handleCallback';
import { DynamoReplayGuard } from './replayGuard';

/**
 * The callback function's pieces, built once per container from its clients. Its state-table calls go through
 * `items`: in the function, our own signed requests (lib/items/signedItemStore.ts) rather than the DynamoDB SDK.
 */
export function callbackWiring(
  config: Config,
  clients: { sqs: QueueClient; items: ItemStore; log: Log; meter: Meter; now?: () => Date },
): { handle(request: CallbackRequest): Promise<CallbackResponse> } {
  const deps = {
    config,
    publish: sqsPublisher(clients.sqs),
    budgets: new BudgetStore(clients.items, config.stateTable),
    replays: new DynamoReplayGuard(clients.items, config.stateTable),
    now: clients.now ?? (() => new Date()),
    log: clients.log,
    meter: clients.meter,
  };
  return { handle: (request) => handleCallback(request, deps) };
}
