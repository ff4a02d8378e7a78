/**
 * The SQS calls kf-bridge's publishers and FIFO consumers make, in the SDK's shapes (SendMessage's input, a
 * SendMessageBatch answer's Successful and Failed), so they do not care whether our own signed requests
 * (./signedQueueClient.ts, what the functions use) or the SDK's SQSClient (./sdkQueueClient.ts, for the admin tools,
 * the example bot and tests' own checks) carry them.
 */

export interface QueueMessage {
  readonly MessageBody: string;
  readonly MessageGroupId?: string;
  readonly MessageDeduplicationId?: string;
}

export interface BatchEntry extends QueueMessage {
  /** Unique within its call: the answer names each entry by it. */
  readonly Id: string;
}

/** An entry SQS did not take, by its code (`InvalidMessageContents`, `InternalError`); never its message. */
export interface BatchEntryFailure {
  readonly Id: string;
  readonly Code: string;
  /** Whether the request was at fault (a retry will not help) rather than SQS. */
  readonly SenderFault: boolean;
}

export interface BatchAnswer {
  readonly Successful: readonly { readonly Id: string; readonly MessageId?: string }[];
  readonly Failed: readonly BatchEntryFailure[];
}

export interface QueueCallOptions {
  /** The caller's deadline: the call ends with it. */
  readonly signal?: AbortSignal;
}

/**
 * A call that fails throws; a batch's entries succeed or fail one by one, and an entry the answer names neither way
 * is left for the caller to treat as not taken. Its methods are plain properties, so a test can stand AWS's
 * refusals in front of them (local/sqsBatchRefusals.ts).
 */
export interface QueueClient {
  sendMessage(
    input: QueueMessage & { readonly QueueUrl: string },
    options?: QueueCallOptions,
  ): Promise<{ readonly MessageId?: string }>;
  sendMessageBatch(
    input: { readonly QueueUrl: string; readonly Entries: readonly BatchEntry[] },
    options?: QueueCallOptions,
  ): Promise<BatchAnswer>;
  changeMessageVisibility(
    input: { readonly QueueUrl: string; readonly ReceiptHandle: string; readonly VisibilityTimeout: number },
    options?: QueueCallOptions,
  ): Promise<void>;
}
