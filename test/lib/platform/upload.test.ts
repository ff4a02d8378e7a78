import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../../lib/config/config';
import { DependencyError } from '../../../lib/errors';
import { NO_METRICS } from '../../../lib/metrics';
import { createPlatformUpload } from '../../../lib/platform/client';
import type { TokenProvider } from '../../../lib/tokens/provider';
import { recordingLog } from '../../support/recording';

/** A platform that answers every upload with the answer the test sets. */
let answer: unknown;
let server: Server;
let app: AppConfig;
beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume().on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const apiBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  app = {
    name: 'default',
    mp: { appId: 'wx1', appSecret: 's', token: 't', messageMode: 'plaintext', apiBase },
    wecom: { apiBase } as AppConfig['wecom'],
  };
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const tokens = { getToken: async () => 'token', invalidate: async () => {} } as unknown as TokenProvider;
const upload = createPlatformUpload({ tokens, log: recordingLog().log, meter: NO_METRICS });
const file = { data: Buffer.from('cover'), filename: 'cover.jpg', contentType: 'image/jpeg' };

describe('media/upload answers', () => {
  it("reads an MP thumb's id from thumb_media_id, as MP answers it", async () => {
    // MP's real answer (silenceper/wechat PR #14): no media_id, no errcode, created_at a number.
    answer = { type: 'thumb', thumb_media_id: 'THUMB_ID', created_at: 1486032778 };
    expect(await upload(app, 'mp', { type: 'thumb', file })).toEqual({
      mediaId: 'THUMB_ID',
      createdAt: 1486032778_000,
    });
  });

  it("reads WeCom's media_id and its created_at given as a string", async () => {
    answer = { errcode: 0, errmsg: '', type: 'image', media_id: 'MEDIA_ID', created_at: '1380000000' };
    expect(await upload(app, 'wecom', { type: 'image', file })).toEqual({
      mediaId: 'MEDIA_ID',
      createdAt: 1380000000_000,
    });
  });

  it('refuses an answer without the id it should carry, so no bad id is sent or cached', async () => {
    answer = { type: 'thumb', media_id: 'WRONG_FIELD', created_at: 1486032778 };
    await expect(upload(app, 'mp', { type: 'thumb', file })).rejects.toThrow(DependencyError);
    answer = { errcode: 0, errmsg: '', type: 'image', created_at: '1380000000' };
    await expect(upload(app, 'wecom', { type: 'image', file })).rejects.toThrow(
      "/cgi-bin/media/upload answered without media_id for app 'default'",
    );
    answer = { type: 'thumb', thumb_media_id: 'THUMB_ID' };
    await expect(upload(app, 'mp', { type: 'thumb', file })).rejects.toThrow('without created_at');
  });
});
