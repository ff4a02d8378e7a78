import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';

export interface EventSourceMapping {
  readonly functionName: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  /** At most 10, as for FIFO queues on AWS. */
  readonly batchSize: number;
  readonly reportBatchItemFailures: boolean;
}

/** Invokes the function; rejects when the invocation itself failed (a thrown error, a timeout). */
export type Invoke = (functionName: string, event: unknown) => Promise<unknown>;

export type MappingLog = (line: string) => void;

function toRecord(message: Message, mapping: EventSourceMapping, region: string): SQSRecord {
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: (message.Attributes ?? {}) as unknown as SQSRecord['attributes'],
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          stringValue: value.StringValue,
          binaryValue: value.BinaryValue?.toString(),
          dataType: value.DataType ?? 'String',
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ) as SQSRecord['messageAttributes'],
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: mapping.queueArn,
    awsRegion: region,
  };
}

/**
 * Which messages of a batch succeeded, with Lambda's rules: a failed invocation fails the whole batch, and
 * so does a malformed `batchItemFailures` (an id not in the batch); without ReportBatchItemFailures any
 * return value means success.
 */
export function succeededMessageIds(
  mapping: EventSourceMapping,
  batch: SQSRecord[],
  result: unknown,
): string[] {
  const all = batch.map((record) => record.messageId);
  if (!mapping.reportBatchItemFailures) return all;
  const failures = (result as Partial<SQSBatchResponse> | null | undefined)?.batchItemFailures;
  if (failures === undefined || failures === null) return all;
  if (!Array.isArray(failures)) return [];
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = failure?.itemIdentifier;
    if (typeof id !== 'string' || !all.includes(id)) return [];
    failed.add(id);
  }
  return all.filter((id) => !failed.has(id));
}

/** Polls once: receive a batch, invoke, delete what succeeded. Returns how many messages were received. */
export async function pollOnce(
  mapping: EventSourceMapping,
  deps: {
    sqs: SQSClient;
    invoke: Invoke;
    region: string;
    log: MappingLog;
    waitTimeSeconds: number;
    signal?: AbortSignal;
  },
): Promise<number> {
  const { Messages = [] } = await deps.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: mapping.queueUrl,
      MaxNumberOfMessages: Math.min(mapping.batchSize, 10),
      WaitTimeSeconds: deps.waitTimeSeconds,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
    { abortSignal: deps.signal },
  );
  if (Messages.length === 0) return 0;
  const records = Messages.map((message) => toRecord(message, mapping, deps.region));
  let succeeded: string[];
  try {
    succeeded = succeededMessageIds(
      mapping,
      records,
      await deps.invoke(mapping.functionName, { Records: records }),
    );
  } catch (error) {
    // As on AWS: the batch stays on the queue, comes back after the visibility timeout, and is redriven to the DLQ.
    deps.log(
      `${mapping.functionName}: invocation failed, ${records.length} message(s) will be retried: ${(error as Error).message}`,
    );
    return Messages.length;
  }
  const toDelete = records.filter((record) => succeeded.includes(record.messageId));
  if (toDelete.length > 0) {
    await deps.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: mapping.queueUrl,
        Entries: toDelete.map((record, index) => ({
          Id: String(index),
          ReceiptHandle: record.receiptHandle,
        })),
      }),
    );
  }
  if (toDelete.length < records.length) {
    deps.log(
      `${mapping.functionName}: ${records.length - toDelete.length} of ${records.length} message(s) reported failed`,
    );
  }
  return Messages.length;
}

/** Runs every mapping until `stop()`; one poller per mapping, like one Lambda poller per queue. */
export function startEventSourceMappings(
  mappings: EventSourceMapping[],
  deps: { sqs: SQSClient; invoke: Invoke; region: string; log: MappingLog; waitTimeSeconds?: number },
): { stop(): Promise<void> } {
  const controller = new AbortController();
  const loops = mappings.map(async (mapping) => {
    while (!controller.signal.aborted) {
      try {
        await pollOnce(mapping, {
          ...deps,
          waitTimeSeconds: deps.waitTimeSeconds ?? 5,
          signal: controller.signal,
        });
      } catch (error) {
        if (controller.signal.aborted) return;
        deps.log(`${mapping.functionName}: polling ${mapping.queueUrl} failed: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  });
  return {
    stop: async () => {
      controller.abort();
      await Promise.allSettled(loops);
    },
  };
}
