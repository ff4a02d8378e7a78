import type { Config } from '../config/config';
import {
  checkQueueable,
  OUTBOUND_SCHEMA,
  type OutboundRequest,
  outboundFifoMessage,
  parseOutboundRequest,
  parseStatusQuery,
} from '../contracts/outbound';
import { BadRequestError, ContractError, NotFoundError } from '../errors';
import { authorize } from '../http/apiKey';
import type { Log } from '../logger';
import type { Publish } from '../queue/publisher';
import type { SendLedger } from './sendLedger';

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly requestId?: string;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  readonly signal?: AbortSignal;
}

export interface ApiDeps {
  readonly config: Config;
  readonly publish: Publish;
  readonly ledger: SendLedger;
  readonly now: () => number;
  readonly log: Log;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * POST /v1/messages validates an outbound request and puts it on outbound.fifo: 202 with its id and status.
 * GET /v1/messages/{requestId}?app= answers its status: queued, sent, rejected, failed or uncertain (with errcode and
 * reason). Input past a limit of SQS or DynamoDB (ids, sizes) is answered 400 with the field, never sent to AWS.
 */
export async function handleMessagesApi(request: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  authorize(request.headers, deps.config.outboundApiKey);
  if (request.method === 'GET' && request.requestId) {
    const { requestId, app } = parseStatusQuery({
      requestId: request.requestId,
      app: request.query.app ?? 'default',
    });
    const outcome = await deps.ledger.read(app, requestId);
    if (!outcome) throw new NotFoundError(`no request '${requestId}' for app '${app}'`);
    return {
      status: 200,
      body: { requestId, app, ...outcome, at: new Date(outcome.at).toISOString() },
    };
  }
  let body: unknown;
  try {
    body = JSON.parse(request.body);
  } catch {
    throw new BadRequestError('body is not JSON');
  }
  const outbound = parseOutboundRequest({ schema: OUTBOUND_SCHEMA, ...(body as object) });
  checkQueueable(outbound);
  // Each channel needs its own platform's settings: an Official Account-only app takes MP requests.
  const [platform, settings] =
    outbound.channel === 'mp' ? (['mp', 'Official Account'] as const) : (['wecom', 'WeCom'] as const);
  if (!deps.config.apps.get(outbound.app)?.[platform]) {
    throw new ContractError(`outbound request: app: no such app with ${settings} settings`, {
      issues: [{ path: 'app', message: `no app '${outbound.app}' with ${settings} settings` }],
    });
  }
  checkFilesReadable(outbound, deps.config.mediaBucket);
  // Publish first: a repeat is absorbed by FIFO deduplication and the sender's ledger, a lost publish is not.
  // A repeat of a request already settled is published too (the sender finds its outcome and does nothing), so
  // that the ledger is written once and not read before.
  await deps.publish(deps.config.queues.outboundUrl, outboundFifoMessage(outbound), request.signal);
  const known = await deps.ledger.queue(outbound.app, outbound.requestId, deps.now());
  if (known && known.status !== 'queued')
    return { status: 202, body: { requestId: outbound.requestId, status: known.status } };
  deps.log.info('outbound request queued', {
    app: outbound.app,
    requestId: outbound.requestId,
    type: outbound.message.type,
  });
  return { status: 202, body: { requestId: outbound.requestId, status: 'queued' } };
}

/**
 * The sender may read S3 objects in the media bucket only: one elsewhere would be refused as AccessDenied on
 * every attempt, which reads as a passing fault. Said here, where the caller can mend it.
 */
function checkFilesReadable(request: OutboundRequest, mediaBucket: string | undefined): void {
  const message = request.message as { s3?: { bucket: string }; thumbS3?: { bucket: string } };
  for (const field of ['s3', 'thumbS3'] as const) {
    const bucket = message[field]?.bucket;
    if (bucket === undefined || bucket === mediaBucket) continue;
    const why = mediaBucket
      ? `kf-bridge reads files from the media bucket ${mediaBucket} only`
      : 'no media bucket is set';
    throw new ContractError(`outbound request: message.${field}.bucket: ${why}`, {
      issues: [{ path: `message.${field}.bucket`, message: why }],
    });
  }
}
