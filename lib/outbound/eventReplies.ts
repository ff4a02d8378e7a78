import type { WecomAppConfig } from '../config/config';
import type { InboundMessage } from '../contracts/inbound';
import { OUTBOUND_SCHEMA, type OutboundRequest } from '../contracts/outbound';

/**
 * The configured welcome and closing messages for a page of inbound messages: one per enter_session that
 * carries a welcome_code, one per session a servicer ended (change_type 3) with a msg_code. Both codes are
 * valid for 20 s, so they go out on outbound.fifo at once, keyed by the event's msgid.
 */
export function eventReplies(messages: InboundMessage[], wecom: WecomAppConfig): OutboundRequest[] {
  const replies: OutboundRequest[] = [];
  for (const inbound of messages) {
    const body = inbound.message;
    if (body.type !== 'event' || !inbound.customer) continue;
    const reply = (kind: string, code: string, content: string): OutboundRequest => ({
      schema: OUTBOUND_SCHEMA,
      requestId: `${kind}-${inbound.id}`.slice(0, 128),
      app: inbound.app,
      channel: 'kf',
      openKfId: inbound.account,
      externalUserId: inbound.customer as string,
      message: { type: 'event_reply', code, message: { type: 'text', content } },
    });
    if (body.event === 'enter_session' && 'welcomeCode' in body && body.welcomeCode && wecom.welcomeText) {
      replies.push(reply('welcome', body.welcomeCode, wecom.welcomeText));
    }
    if (
      body.event === 'session_status_change' &&
      'changeType' in body &&
      body.changeType === 3 &&
      body.msgCode &&
      wecom.closingText
    ) {
      replies.push(reply('closing', body.msgCode, wecom.closingText));
    }
  }
  return replies;
}
