import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../config/config';
import { DependencyError } from '../errors';

/** The queues with a dead-letter queue an operator works, by the name the CLI and the API take. */
export const DLQ_QUEUES = ['sync-jobs', 'inbound', 'outbound'] as const;
export type DlqQueue = (typeof DLQ_QUEUES)[number];

export interface DlqPair {
  readonly queue: DlqQueue;
  /** Where redriven messages go back to. */
  readonly sourceUrl: string;
  readonly dlqUrl: string;
  readonly dlqName: string;
}

const sourceUrlOf = (config: Config, queue: DlqQueue) =>
  ({
    'sync-jobs': config.queues.syncJobsUrl,
    inbound: config.queues.inboundUrl,
    outbound: config.queues.outboundUrl,
  })[queue];

/**
 * Each queue's dead-letter queue as the queue's own RedrivePolicy names it, so the pairing is serverless.yml's
 * and nothing else's. SQS requires a dead-letter queue in the source's account and region, so its URL is the
 * source's with the name swapped. Looked up once per container.
 */
export function dlqPairs(sqs: SQSClient, config: Config): (queue: DlqQueue) => Promise<DlqPair> {
  const pairs = new Map<DlqQueue, Promise<DlqPair>>();
  const lookUp = async (queue: DlqQueue): Promise<DlqPair> => {
    const sourceUrl = sourceUrlOf(config, queue);
    let policy: string | undefined;
    try {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: sourceUrl, AttributeNames: ['RedrivePolicy'] }),
      );
      policy = Attributes?.RedrivePolicy;
    } catch (error) {
      throw new DependencyError(`could not read the ${queue} queue's redrive policy`, { cause: error });
    }
    const arn = policy
      ? (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn
      : undefined;
    const dlqName = arn?.split(':')[5];
    if (!dlqName) throw new DependencyError(`the ${queue} queue has no dead-letter queue`);
    return {
      queue,
      sourceUrl,
      dlqName,
      dlqUrl: `${sourceUrl.slice(0, sourceUrl.lastIndexOf('/'))}/${dlqName}`,
    };
  };
  return (queue) => {
    let pair = pairs.get(queue);
    if (!pair) {
      pair = lookUp(queue);
      // A failed look-up is tried again on the next call rather than kept.
      pair.catch(() => pairs.delete(queue));
      pairs.set(queue, pair);
    }
    return pair;
  };
}
