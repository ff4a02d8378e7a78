import { describe, expect, it } from 'vitest';
import { jpgBytes } from '../../../lib/admin/imageInput';
import type { AdminContext } from '../../../lib/admin/operation';
import { BadRequestError } from '../../../lib/errors';

const JPG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Only fetchFile is used by jpgBytes; it answers the given bytes for any source. */
const contextServing = (data: Buffer, name: string) =>
  ({
    fetchFile: async () => ({ data, contentType: 'application/octet-stream', name }),
  }) as unknown as AdminContext;

describe("jpgBytes (the Official Account's kf avatar)", () => {
  it('takes a JPG given inline or fetched, named .jpg whatever its source called it', async () => {
    expect(await jpgBytes(contextServing(JPG, 'x'), { data: JPG.toString('base64') }, 'avatar')).toEqual({
      data: JPG,
      filename: 'avatar.jpg',
      contentType: 'image/jpeg',
    });
    const fetched = await jpgBytes(
      contextServing(JPG, 'face'),
      { url: 'https://example.com/face' },
      'avatar',
    );
    expect(fetched).toEqual({ data: JPG, filename: 'avatar.jpg', contentType: 'image/jpeg' });
  });

  it('refuses a PNG, inline or fetched, before anything reaches the platform (MP answers 40005)', async () => {
    const inline = jpgBytes(contextServing(PNG, 'x'), { data: PNG.toString('base64') }, 'avatar');
    await expect(inline).rejects.toThrow(BadRequestError);
    await expect(inline).rejects.toThrow(
      'avatar is not a JPG image (the Official Account takes JPG avatars only)',
    );
    const fetched = jpgBytes(contextServing(PNG, 'a.png'), { url: 'https://example.com/a.png' }, 'avatar');
    await expect(fetched).rejects.toThrow('avatar is not a JPG image');
  });
});
