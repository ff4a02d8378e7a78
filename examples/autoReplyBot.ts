import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { parseInboundMessage } from '../lib/contracts/inbound';
import { OUTBOUND_SCHEMA, type OutboundRequest, outboundFifoMessage } from '../lib/contracts/outbound';
import { sqsBatchPublisher } from '../lib/queue/publisher';

/**
 * An example of a company's consumer: it reads inbound.fifo, and answers each customer's text (WeCom kf or
 * Official Account) through outbound.fifo, keyed by the message it answers so a redelivery never answers
 * twice. `npm start` runs it so a newcomer sees a conversation in the simulator's page; a real consumer would
 * call a helpdesk or a bot.
 */
export function startAutoReplyBot(options: {
  sqs: SQSClient;
  inboundUrl: string;
  outboundUrl: string;
  log: (line: string) => void;
}) {
  const publish = sqsBatchPublisher(options.sqs);
  const controller = new AbortController();
  const loop = (async () => {
    while (!controller.signal.aborted) {
      try {
        const { Messages = [] } = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.inboundUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 2,
          }),
          { abortSignal: controller.signal },
        );
        const replies: OutboundRequest[] = [];
        for (const raw of Messages) {
          const inbound = parseInboundMessage(JSON.parse(raw.Body ?? '{}'));
          if (inbound.origin !== 'customer' || !inbound.customer || inbound.message.type !== 'text') continue;
          const message = {
            type: 'text' as const,
            content: `您好！我是 kf-bridge 演示机器人。您说的是：「${inbound.message.content}」`,
          };
          const requestId = `bot-${inbound.id}`.slice(0, 128);
          replies.push(
            inbound.channel === 'kf'
              ? {
                  schema: OUTBOUND_SCHEMA,
                  requestId,
                  app: inbound.app,
                  channel: 'kf',
                  openKfId: inbound.account,
                  externalUserId: inbound.customer,
                  message,
                }
              : {
                  schema: OUTBOUND_SCHEMA,
                  requestId,
                  app: inbound.app,
                  channel: 'mp',
                  openid: inbound.customer,
                  message,
                },
          );
        }
        await publish(options.outboundUrl, replies.map(outboundFifoMessage));
        if (Messages.length > 0) {
          await options.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: options.inboundUrl,
              Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          );
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        options.log(`[bot] ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  })();
  return {
    stop: async () => {
      controller.abort();
      await loop;
    },
  };
}
