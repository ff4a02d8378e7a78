import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BudgetStore } from '../budgets';
import type { Config } from '../config/config';
import type { Log } from '../logger';
import type { Meter } from '../metrics';
import { sqsPublisher } from '../queue/publisher';
import { type CallbackRequest, type CallbackResponse, handleCallback } from './handleCallback';
import { DynamoReplayGuard } from './replayGuard';

/** The callback function's pieces, built once per container from its clients. */
export function callbackWiring(
  config: Config,
  clients: { sqs: SQSClient; db: DynamoDBDocumentClient; log: Log; meter: Meter; now?: () => Date },
): { handle(request: CallbackRequest): Promise<CallbackResponse> } {
  const deps = {
    config,
    publish: sqsPublisher(clients.sqs),
    budgets: new BudgetStore(clients.db, config.stateTable),
    replays: new DynamoReplayGuard(clients.db, config.stateTable),
    now: clients.now ?? (() => new Date()),
    log: clients.log,
    meter: clients.meter,
  };
  return { handle: (request) => handleCallback(request, deps) };
}
