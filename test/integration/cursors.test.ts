import { expect, it } from 'vitest';
import { CursorStore } from '../../lib/inbound/cursors';
import { documentClient } from '../support/aws';
import { testEnv } from '../support/wechat';

it("lists the kf accounts ever pulled without reading their callback Token out of DynamoDB (trace's read)", async () => {
  const db = documentClient();
  const answered: Record<string, unknown>[] = [];
  db.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      answered.push(...((result.output as { Items?: Record<string, unknown>[] }).Items ?? []));
      return result;
    },
    { step: 'initialize', name: 'recordItems' },
  );
  const cursors = new CursorStore(db, testEnv.STATE_TABLE);
  const app = `cursors${Date.now().toString(36)}`;
  await cursors.commit(app, 'wkToken', { version: 0 }, 'c1', Date.now(), {
    value: 'sync-msg-token',
    receivedAt: Date.now(),
  });
  await cursors.commit(app, 'wkRetired', { version: 0 }, 'c1', Date.now());
  await cursors.retire(app, 'wkRetired', Date.now());

  expect((await cursors.everPulled(app)).sort()).toEqual(['wkRetired', 'wkToken']);
  expect(answered).toEqual([{ sk: 'wkRetired' }, { sk: 'wkToken' }]);
});
