import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, setup } from './harness';

let s: Awaited<ReturnType<typeof setup>>;
let token: string;
beforeEach(async () => {
  s = await setup();
  token = await s.refreshToken();
});
afterEach(async () => {
  await s.close();
});

function upload(type: string, filename: string, size: number, field = 'media') {
  const form = new FormData();
  form.append(field, new Blob([Buffer.alloc(size, 9)]), filename);
  return fetch(`${s.url}/cgi-bin/media/upload?access_token=${token}&type=${type}`, {
    method: 'POST',
    body: form,
  }).then(json);
}

describe('media/upload', () => {
  it('stores a file from multipart field "media" and answers created_at as a string', async () => {
    const answer = await upload('image', 'photo.jpg', 1024);
    expect(answer).toEqual({
      errcode: 0,
      errmsg: '',
      type: 'image',
      media_id: expect.any(String),
      created_at: expect.stringMatching(/^\d+$/),
    });
  });

  it.each([
    ['an unknown type', 'sticker', 'a.jpg', 100, 40004],
    ['a wrong format for the type', 'image', 'a.gif', 100, 40005],
    ['a file of 5 bytes or less', 'file', 'a.txt', 5, 40006],
    ['an image over 10 MB', 'image', 'a.png', 10 * 1024 * 1024 + 1, 40009],
    ['a voice over 2 MB', 'voice', 'a.amr', 2 * 1024 * 1024 + 1, 40006],
    ['a video over 10 MB', 'video', 'a.mp4', 10 * 1024 * 1024 + 1, 40011],
  ])('refuses %s', async (_, type, filename, size, errcode) => {
    expect(await upload(type, filename, size)).toMatchObject({ errcode });
  });

  it('refuses an upload without the media field (44001)', async () => {
    expect(await upload('file', 'a.txt', 100, 'file')).toMatchObject({ errcode: 44001 });
  });
});

describe('media/get', () => {
  it('serves the file with its headers and byte ranges, for 3 days', async () => {
    const form = new FormData();
    form.append('media', new Blob([Buffer.from('0123456789abcdef')], { type: 'text/plain' }), 'notes.txt');
    const { media_id } = await fetch(`${s.url}/cgi-bin/media/upload?access_token=${token}&type=file`, {
      method: 'POST',
      body: form,
    }).then(json);
    const whole = await fetch(`${s.url}/cgi-bin/media/get?access_token=${token}&media_id=${media_id}`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-disposition')).toBe(`attachment; filename="${media_id}.txt"`);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(await whole.text()).toBe('0123456789abcdef');
    const part = await fetch(`${s.url}/cgi-bin/media/get?access_token=${token}&media_id=${media_id}`, {
      headers: { range: 'bytes=2-5' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 2-5/16');
    expect(await part.text()).toBe('2345');
    s.sim.advanceClock(3 * 24 * 3600_000);
    token = await s.refreshToken();
    expect(
      await fetch(`${s.url}/cgi-bin/media/get?access_token=${token}&media_id=${media_id}`).then(json),
    ).toMatchObject({ errcode: 40007 });
  });
});
