import { createHash } from 'node:crypto';
import {
  type ErrorReader,
  jsonErrorOf,
  passingRefusal,
  type Refusal,
  type RequestObserver,
  type RetryPolicy,
  type ServiceTarget,
  serviceTarget,
  signedRequests,
  throttlingRefusal,
} from '../aws/signedRequest';
import { DependencyError } from '../errors';
import type { BatchEntryFailure, QueueClient } from './queueClient';

/**
 * The queue calls over SQS's AWS JSON 1.0 protocol, signed and sent by lib/aws/signedRequest.ts: SendMessage,
 * SendMessageBatch and ChangeMessageVisibility without the SQS SDK client, which is most of the callback's bundle
 * (and its cold start) for one SendMessage per push. Each call goes to SQS's endpoint for the region (the SDK's
 * too: a queue URL on that host, as CloudFormation's are), the queue named by its URL in the body.
 */

/**
 * SQS's error: its type (`com.amazonaws.sqs#QueueDoesNotExist`), and the query-protocol code it sends beside it in
 * `x-amzn-query-error` (`AWS.SimpleQueueService.NonExistentQueue;Sender`), which is what its API reference and
 * older tools name. Not its message: some quote what was sent (an invalid character of a body, a parameter's
 * value), and no message body goes into an error or a log.
 */
export const sqsErrorOf: ErrorReader = (body, headers) => {
  const { type } = jsonErrorOf(body, headers);
  const [code, fault] = (headers.get('x-amzn-query-error') ?? '').split(';').map((part) => part.trim());
  const plainCode = code && /^[A-Za-z][A-Za-z0-9.]{0,127}$/.test(code) ? code : undefined;
  return {
    ...((type ?? plainCode) && { type: type ?? plainCode }),
    ...(plainCode && { details: { code: plainCode, ...(fault && { fault }) } }),
  };
};

/** The query code of a refusal (`AWS.SimpleQueueService.NonExistentQueue`), where SQS sent one. */
const codeOf = (refusal: Refusal) => refusal.details?.code as string | undefined;

/**
 * What the SDK's retry strategy tries again, its throttling read from the query code as well (the name the SDK
 * gives an error SQS's model does not know): a 5xx, throttling (SQS's RequestThrottled, 403), a timeout type.
 * KmsThrottled (`KMS.ThrottlingException`, 400) the SDK does not retry, nor does this.
 */
export const retryableSqsRefusal = (refusal: Refusal): boolean =>
  passingRefusal(refusal) || throttlingRefusal({ ...refusal, type: codeOf(refusal) ?? '' });

/**
 * The SDK's standard retry for SQS: 3 tries, a backoff from 100 ms (500 ms after throttling). A try without an answer
 * within 2 s is abandoned; the callback's own deadline (its signal) ends the call sooner.
 */
export const QUEUE_CALL_POLICY: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 100,
  throttledBaseDelayMs: 500,
  attemptTimeoutMs: 2_000,
  callTimeoutMs: 6_000,
  retryable: retryableSqsRefusal,
};

export interface SignedQueueClientOptions {
  /** Where SQS answers (serviceTarget('sqs', env)), looked up at the first call. */
  readonly target: () => ServiceTarget;
  readonly policy?: Partial<RetryPolicy>;
  /** Told of each try (the local stack's metering, tracing and IAM records). */
  readonly observe?: RequestObserver;
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** The queue's name, for errors: its URL's last segment (the account id before it stays out). */
const queueName = (queueUrl: string) => queueUrl.slice(queueUrl.lastIndexOf('/') + 1);

type Answer = Record<string, unknown>;

const utf8 = new TextDecoder();

/** The SQS calls to where `env` says SQS is (serviceTarget), as the functions make them. */
export function queueClientFor(
  env: NodeJS.ProcessEnv,
  options: Omit<SignedQueueClientOptions, 'target'> = {},
): QueueClient {
  return signedQueueClient({ target: () => serviceTarget('sqs', env), ...options });
}

export function signedQueueClient(options: SignedQueueClientOptions): QueueClient {
  const sqs = signedRequests({
    service: 'sqs',
    name: 'SQS',
    target: options.target,
    errorOf: sqsErrorOf,
    ...(options.observe && { observe: options.observe }),
  });
  const policy: RetryPolicy = { ...QUEUE_CALL_POLICY, ...options.policy };
  /** SQS's endpoint, parsed at the first call: every call goes to its root. */
  let url: URL | undefined;

  async function call(operation: string, input: Answer, signal: AbortSignal | undefined): Promise<Answer> {
    url ??= new URL('/', sqs.target().endpoint);
    const answer = await sqs.send(
      {
        operation,
        method: 'POST',
        url,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `AmazonSQS.${operation}`,
          // Asks SQS for the query-protocol error code beside the JSON error, as the SDK does.
          'x-amzn-query-mode': 'true',
        },
        body: JSON.stringify(input),
        input: { QueueUrl: input.QueueUrl },
      },
      policy,
      signal,
    );
    const text = utf8.decode(answer.body);
    // ChangeMessageVisibility answers with an empty body.
    if (!text.trim()) return {};
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {}
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new DependencyError(`SQS ${operation}: HTTP ${answer.status} with a body that is not its answer`);
    return body as Answer;
  }

  return {
    async sendMessage(input, callOptions) {
      const answer = await call('SendMessage', { ...input }, callOptions?.signal);
      // What SQS stored is what was sent only if its digest says so (the SDK's check): a message changed on the
      // way is a failure, which the caller's retry sends again.
      if (answer.MD5OfMessageBody !== md5(input.MessageBody))
        throw new DependencyError(
          `SQS SendMessage to ${queueName(input.QueueUrl)}: the answer's MD5OfMessageBody is not the body's as sent`,
        );
      return typeof answer.MessageId === 'string' ? { MessageId: answer.MessageId } : {};
    },

    async sendMessageBatch(input, callOptions) {
      const answer = await call(
        'SendMessageBatch',
        { QueueUrl: input.QueueUrl, Entries: input.Entries },
        callOptions?.signal,
      );
      const sent = new Map(input.Entries.map((entry) => [entry.Id, entry]));
      const Successful: { Id: string; MessageId?: string }[] = [];
      const Failed: BatchEntryFailure[] = [];
      for (const entry of listOf(answer.Successful)) {
        const Id = String(entry.Id);
        const body = sent.get(Id)?.MessageBody;
        if (body === undefined) continue;
        // One entry changed on the way fails alone, as not taken: the rest of the call did arrive intact.
        if (entry.MD5OfMessageBody !== md5(body)) {
          Failed.push({ Id, Code: 'MD5OfMessageBodyMismatch', SenderFault: false });
          continue;
        }
        Successful.push({ Id, ...(typeof entry.MessageId === 'string' && { MessageId: entry.MessageId }) });
      }
      for (const entry of listOf(answer.Failed))
        Failed.push({
          Id: String(entry.Id),
          Code: typeof entry.Code === 'string' ? entry.Code : 'unknown',
          SenderFault: entry.SenderFault === true || entry.SenderFault === 'true',
        });
      return { Successful, Failed };
    },

    async changeMessageVisibility(input, callOptions) {
      await call('ChangeMessageVisibility', { ...input }, callOptions?.signal);
    },
  };
}

const listOf = (value: unknown): Answer[] =>
  Array.isArray(value)
    ? value.filter((entry): entry is Answer => typeof entry === 'object' && entry !== null)
    : [];
