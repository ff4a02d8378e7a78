import { describe, expect, it } from 'vitest';
import type { KfOutboundRequest } from '../../../lib/contracts/outbound';
import { sendRequest } from '../../../lib/outbound/sender';
import { corpusJson } from '../../contract/corpus';
import { corpusPlatform, senderDeps } from '../../contract/fakes';

const reply: KfOutboundRequest = {
  schema: 'kf-bridge.outbound/v1',
  app: 'default',
  channel: 'kf',
  requestId: 'reply-side-by-side',
  openKfId: 'wkSideBySide',
  externalUserId: 'wmSideBySide',
  message: { type: 'text', content: 'hello' },
};

describe('sendRequest', () => {
  it("reads the customer's budget while it writes the msgid index: one round trip before the send, not two", async () => {
    const platform = corpusPlatform({
      '/cgi-bin/kf/send_msg': corpusJson('wecom/send_msg.response.json'),
    });
    const deps = senderDeps(platform.call);
    let budgetRead: () => void = () => {};
    const budgetAsked = new Promise<void>((resolve) => {
      budgetRead = resolve;
    });
    const read = deps.budgets.read.bind(deps.budgets);
    deps.budgets.read = (key) => {
      budgetRead();
      return read(key);
    };
    const index = deps.ledger.indexMsgid.bind(deps.ledger);
    deps.ledger.indexMsgid = async (...args) => {
      // Answers only once the budget was asked for: a sender that waits for this answer first never sends.
      await Promise.race([
        budgetAsked,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('the budget was not read beside the msgid index')), 500),
        ),
      ]);
      return index(...args);
    };
    await expect(sendRequest(reply, deps)).resolves.toMatchObject({ status: 'sent' });
    expect(platform.requests.map((request) => request.path)).toEqual(['/cgi-bin/kf/send_msg']);
  });
});
