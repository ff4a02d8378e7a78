import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { INBOUND_SCHEMA } from '../../../lib/contracts/inbound';
import { OUTBOUND_SCHEMA, parseOutboundRequest } from '../../../lib/contracts/outbound';
import { ROOT } from '../../../local/serviceDefinition';
import { schemaFileText, schemas } from '../../../scripts/make-schemas';

describe('published JSON Schemas', () => {
  it('are generated from the contracts kf-bridge validates with', async () => {
    for (const [file, schema] of Object.entries(schemas)) {
      expect(
        await readFile(join(ROOT, 'schemas', file), 'utf8'),
        `schemas/${file}: run npm run schemas`,
      ).toBe(schemaFileText(schema));
    }
  });

  it('accept a message the contract accepts and refuse one it refuses', () => {
    const validate = new Ajv({ allErrors: true, validateFormats: false }).compile(
      schemas['kf-bridge.inbound.v1.json'] ?? {},
    );
    const message = {
      schema: INBOUND_SCHEMA,
      app: 'default',
      channel: 'kf',
      id: 'from_msgid_1',
      account: 'wkAAA',
      customer: 'wmBBB',
      origin: 'event',
      sentAt: 1700000000,
      receivedAt: '2026-11-21T08:00:00.000Z',
      message: { type: 'event', event: 'msg_send_fail', failMsgid: 'm', failType: 4 },
    };
    expect(validate(message)).toBe(true);
    expect(validate({ ...message, message: { type: 'location', latitude: 'north' } })).toBe(false);
    expect(validate({ ...message, schema: 'kf-bridge.inbound/v2' })).toBe(false);
  });

  it('publish the outbound contract, its one-file-source rules included', () => {
    const validate = new Ajv({ allErrors: true, validateFormats: false }).compile(
      schemas['kf-bridge.outbound.v1.json'] ?? {},
    );
    const kf = {
      schema: OUTBOUND_SCHEMA,
      requestId: 'r-1',
      app: 'default',
      channel: 'kf',
      openKfId: 'wkA',
      externalUserId: 'wmB',
    };
    const mp = { schema: OUTBOUND_SCHEMA, requestId: 'r-2', app: 'default', channel: 'mp', openid: 'oC' };
    for (const request of [
      { ...kf, message: { type: 'image', url: 'https://cdn.example.com/a.png' } },
      { ...kf, message: { type: 'link', title: 't', url: 'https://x', thumbMediaId: 'm' } },
      { ...mp, message: { type: 'video', mediaId: 'm' } },
      { ...mp, message: { type: 'typing' } },
    ]) {
      expect(validate(request), JSON.stringify(validate.errors)).toBe(true);
      expect(parseOutboundRequest(request)).toBeTruthy();
    }
    for (const request of [
      { ...kf, message: { type: 'image', mediaId: 'm', url: 'https://cdn.example.com/a.png' } },
      { ...kf, message: { type: 'image' } },
      { ...mp, message: { type: 'music', musicUrl: 'https://x/a.mp3' } },
      {
        ...mp,
        message: { type: 'video', mediaId: 'm', thumbMediaId: 't', thumbS3: { bucket: 'b', key: 'k' } },
      },
      { ...mp, message: { type: 'file', mediaId: 'm' } },
      { ...kf, message: { type: 'text', content: 'x'.repeat(2049) } },
    ]) {
      expect(validate(request)).toBe(false);
      expect(() => parseOutboundRequest(request)).toThrow();
    }
  });
});
