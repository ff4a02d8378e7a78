import { expect, it } from 'vitest';
import { CursorStore } from '../../lib/inbound/cursors';
import type { ItemStore } from '../../lib/items/itemStore';
import { itemStores } from '../support/aws';
import { testEnv } from '../support/wechat';

it("lists the kf accounts ever pulled without reading their callback Token out of DynamoDB (trace's read)", async () => {
  const items = itemStores().signed;
  const answered: Record<string, unknown>[] = [];
  // What DynamoDB answered each query with, as the store received it.
  const recording: ItemStore = {
    ...items,
    query: async (input, options) => {
      const page = await items.query(input, options);
      answered.push(...(page.Items ?? []));
      return page;
    },
  };
  const cursors = new CursorStore(recording, testEnv.STATE_TABLE);
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
