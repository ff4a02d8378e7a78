import type { Config } from '../config/config';
import type { ItemStore } from '../items/itemStore';
import type { Log } from '../logger';
import { type ApiRequest, type ApiResponse, handleMessagesApi } from '../outbound/messagesApi';
import { SendLedger } from '../outbound/sendLedger';
import { sqsPublisher } from '../queue/publisher';
import type { QueueClient } from '../queue/queueClient';

/**
 * The messages API's pieces, built once per container. The admin API is another function (functions/admin.ts)
 * with its own role: this one may put requests on outbound.fifo and nothing on the queues consumers read.
 */
export function apiWiring(
  config: Config,
  clients: { sqs: QueueClient; items: ItemStore; log: Log; now?: () => number },
): { handle(request: ApiRequest): Promise<ApiResponse> } {
  const messages = {
    config,
    publish: sqsPublisher(clients.sqs),
    ledger: new SendLedger(clients.items, config.stateTable),
    now: clients.now ?? Date.now,
    log: clients.log,
  };
  return { handle: (request) => handleMessagesApi(request, messages) };
}
