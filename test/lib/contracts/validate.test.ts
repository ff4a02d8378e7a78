import type * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { ADMIN_OPERATIONS } from '../../../lib/admin/catalogue';
import { OUTBOUND_SCHEMA, parseOutboundRequest } from '../../../lib/contracts/outbound';
import { validate } from '../../../lib/contracts/validate';
import { ContractError } from '../../../lib/errors';

const refusal = (run: () => unknown): ContractError => {
  try {
    run();
  } catch (error) {
    if (error instanceof ContractError) return error;
    throw error;
  }
  throw new Error('not refused');
};
const input = (group: string, command: string) =>
  ADMIN_OPERATIONS.find((o) => o.group === group && o.command === command)?.input as v.GenericSchema;

describe('validation errors', () => {
  it('name a missing field once, as required', () => {
    const error = refusal(() =>
      validate(input('kf-accounts', 'update'), { name: 'x' }, 'kf-accounts update'),
    );
    expect(error.message).toBe('kf-accounts update: openKfId is required');
    expect(error.issues).toEqual([{ path: 'openKfId', message: 'openKfId is required' }]);
  });

  it('say what is wrong with each field, one problem each', () => {
    const kf = {
      schema: OUTBOUND_SCHEMA,
      requestId: 'has space',
      app: 'default',
      channel: 'kf',
      openKfId: 'wkA',
      externalUserId: 'wmB',
      message: { type: 'text', content: '字'.repeat(683) },
    };
    expect(refusal(() => parseOutboundRequest(kf)).issues.map((issue) => issue.message)).toEqual([
      'requestId must be 1-128 letters, digits or _ . : -',
      'message.content is longer than 2048 bytes',
    ]);
    const typed = refusal(() =>
      validate(input('kf-accounts', 'list'), { offset: 'ten', limit: 0.5, extra: 2 }, 'kf-accounts list'),
    );
    expect(typed.issues.map((issue) => issue.message)).toEqual([
      'offset must be a number',
      'limit must be a whole number',
      'extra is not a known field',
    ]);
    const empty = refusal(() =>
      validate(input('kf-accounts', 'add'), { name: '', avatar: {} }, 'kf-accounts add'),
    );
    expect(empty.message).toBe(
      'kf-accounts add: name must not be empty; avatar must have exactly one of mediaId, url, s3 or data',
    );
  });
});
