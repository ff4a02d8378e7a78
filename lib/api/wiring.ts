import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ADMIN_PREFIX, type AdminDeps, handleAdminApi } from '../admin/adminApi';
import { adminDeps } from '../admin/wiring';
import type { Config } from '../config/config';
import type { Log } from '../logger';
import type { Meter } from '../metrics';
import { type ApiRequest, type ApiResponse, handleMessagesApi } from '../outbound/messagesApi';
import { SendLedger } from '../outbound/sendLedger';
import { sqsPublisher } from '../queue/publisher';

/** The HTTP API's pieces, built once per container: the messages API, and the admin API on its first call. */
export function apiWiring(
  config: Config,
  clients: {
    sqs: SQSClient;
    db: DynamoDBDocumentClient;
    s3: S3Client;
    log: Log;
    meter: Meter;
    now?: () => number;
  },
): { handle(request: ApiRequest): Promise<ApiResponse> } {
  const now = clients.now ?? Date.now;
  const messages = {
    config,
    publish: sqsPublisher(clients.sqs),
    ledger: new SendLedger(clients.db, config.stateTable),
    now,
    log: clients.log,
  };
  // The admin API's platform client and media resolver are built only for a container that serves it.
  let admin: AdminDeps | undefined;
  return {
    handle(request) {
      if (!request.path.startsWith(ADMIN_PREFIX)) return handleMessagesApi(request, messages);
      admin ??= adminDeps(config, clients.db, clients.s3, clients.sqs, clients.log, clients.meter, now);
      return handleAdminApi(request, admin);
    },
  };
}
