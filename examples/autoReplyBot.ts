import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { REPLIES_PER_MESSAGE } from '../lib/budgets';
import { type InboundMessage, parseInboundMessage } from '../lib/contracts/inbound';
import {
  checkQueueable,
  OUTBOUND_SCHEMA,
  type OutboundRequest,
  outboundFifoMessage,
  parseOutboundRequest,
  TEXT_MAX_BYTES,
} from '../lib/contracts/outbound';
import { splitText } from '../lib/outbound/splitText';
import { sqsBatchPublisher } from '../lib/queue/publisher';
import { sdkQueueClient } from '../lib/queue/sdkQueueClient';

/** Ends an answer cut short to the replies a customer message allows. */
const CUT_SHORT = '…';

/**
 * An example of a company's consumer: it reads inbound.fifo, and answers each customer's text (WeCom kf or
 * Official Account) through outbound.fifo, keyed by the message it answers so a redelivery never answers
 * twice. `npm start` runs it so a newcomer sees a conversation in the simulator's page; a real consumer would
 * call a helpdesk or a bot.
 *
 * Whoever writes to outbound.fifo directly skips the messages API's checks, so the bot makes every request as the
 * API does: validated by the outbound contract, with its message group and deduplication id. A long answer goes
 * in parts within the platform's text limit, in order, at most as many as the customer's message allows.
 */
export function startAutoReplyBot(options: {
  sqs: SQSClient;
  inboundUrl: string;
  outboundUrl: string;
  log: (line: string) => void;
}) {
  const publish = sqsBatchPublisher(sdkQueueClient(options.sqs));
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      try {
        const { Messages = [] } = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.inboundUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 2,
          }),
        );
        const replies = Messages.flatMap((raw) => repliesTo(raw, options.log)).map(outboundFifoMessage);
        await publish(options.outboundUrl, replies);
        if (Messages.length > 0) {
          await options.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: options.inboundUrl,
              Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          );
        }
      } catch (error) {
        options.log(`[bot] ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  })();
  return {
    // The poll in progress ends on its own (2 s): one cut short may have taken messages, which SQS would hide for
    // the queue's visibility timeout from whoever reads next.
    stop: async () => {
      stopping = true;
      await loop;
    },
  };
}

/**
 * The bot's replies to one inbound message; none to anything but a customer's text. A message or reply the
 * contracts refuse would be refused again on every delivery: it is logged and left unanswered.
 */
function repliesTo(raw: Message, log: (line: string) => void): OutboundRequest[] {
  try {
    const inbound = parseInboundMessage(JSON.parse(raw.Body ?? ''));
    if (inbound.origin !== 'customer' || inbound.message.type !== 'text') return [];
    return answerParts(`您好！我是 kf-bridge 演示机器人。您说的是：「${inbound.message.content}」`).map(
      (content, index) => reply(inbound, `bot-${inbound.id}-${index + 1}`, content),
    );
  } catch (error) {
    log(`[bot] cannot answer SQS message ${raw.MessageId}: ${(error as Error).message}`);
    return [];
  }
}

/** The answer in texts within the limit, at most as many as a customer message allows, the last marked when cut. */
function answerParts(answer: string): string[] {
  const parts = splitText(answer, TEXT_MAX_BYTES);
  if (parts.length <= REPLIES_PER_MESSAGE) return parts;
  const kept = parts.slice(0, REPLIES_PER_MESSAGE - 1);
  const rest = parts.slice(REPLIES_PER_MESSAGE - 1).join('');
  const [last = ''] = splitText(rest, TEXT_MAX_BYTES - Buffer.byteLength(CUT_SHORT, 'utf8'));
  return [...kept, `${last}${CUT_SHORT}`];
}

function reply(inbound: InboundMessage, requestId: string, content: string): OutboundRequest {
  const request = parseOutboundRequest({
    schema: OUTBOUND_SCHEMA,
    requestId,
    app: inbound.app,
    channel: inbound.channel,
    ...(inbound.channel === 'kf'
      ? { openKfId: inbound.account, externalUserId: inbound.customer }
      : { openid: inbound.customer }),
    message: { type: 'text', content },
  });
  checkQueueable(request);
  return request;
}
