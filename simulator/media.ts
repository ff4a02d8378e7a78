import { randomId, type SimClock, WxError } from './core';
import { parseMultipart } from './multipart';
import type { Media } from './wecom/model';

export const MEDIA_TTL_MS = 3 * 24 * 3600_000;
const MB = 1024 * 1024;

/** WeCom's temporary media rules (reference §10): type, format, size, 3-day lifetime. */
const RULES: Record<string, { extensions: string[]; maxBytes: number; sizeErrcode: number }> = {
  image: { extensions: ['jpg', 'jpeg', 'png'], maxBytes: 10 * MB, sizeErrcode: 40009 },
  voice: { extensions: ['amr'], maxBytes: 2 * MB, sizeErrcode: 40006 },
  video: { extensions: ['mp4'], maxBytes: 10 * MB, sizeErrcode: 40011 },
  file: { extensions: [], maxBytes: 20 * MB, sizeErrcode: 40006 },
};
/** The Official Account's temporary media: no `file`, a `thumb` of at most 64 KB, more image and voice formats. */
const MP_RULES: typeof RULES = {
  image: { extensions: ['jpg', 'jpeg', 'png', 'gif', 'bmp'], maxBytes: 10 * MB, sizeErrcode: 40009 },
  voice: { extensions: ['amr', 'mp3'], maxBytes: 2 * MB, sizeErrcode: 40006 },
  video: { extensions: ['mp4'], maxBytes: 10 * MB, sizeErrcode: 40011 },
  thumb: { extensions: ['jpg', 'jpeg'], maxBytes: 64 * 1024, sizeErrcode: 40009 },
};

const CONTENT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  amr: 'audio/amr',
  mp3: 'audio/mpeg',
  gif: 'image/gif',
  bmp: 'image/bmp',
  mp4: 'video/mp4',
};

/** What media/upload answers: WeCom's, MP's for most types, and MP's for a thumb. */
export type UploadAnswer =
  | { errcode: 0; errmsg: ''; type: string; media_id: string; created_at: string }
  | { type: string; media_id: string; created_at: number }
  | { type: 'thumb'; thumb_media_id: string; created_at: number };

export class MediaStore {
  readonly items = new Map<string, Media>();
  constructor(private readonly clock: SimClock) {}

  /** `media/upload?type=…` with the file in multipart field `media`. */
  upload(
    owner: string,
    type: string | null,
    body: Buffer,
    contentType: string | undefined,
    platform: 'wecom' | 'mp' = 'wecom',
  ): UploadAnswer {
    const rule = type ? (platform === 'mp' ? MP_RULES : RULES)[type] : undefined;
    if (!type || !rule) throw new WxError(40004, 'invalid media type');
    const part = parseMultipart(body, contentType).find((p) => p.name === 'media');
    if (!part || part.data.length === 0) throw new WxError(44001, 'empty media data');
    const filename = part.filename ?? 'media';
    const extension = filename.includes('.') ? (filename.split('.').pop() ?? '').toLowerCase() : '';
    if (rule.extensions.length > 0 && !rule.extensions.includes(extension))
      throw new WxError(40005, 'invalid file type');
    if (part.data.length <= 5) throw new WxError(40006, 'invalid file size');
    if (part.data.length > rule.maxBytes) throw new WxError(rule.sizeErrcode, 'invalid file size');
    const media: Media = {
      mediaId: randomId('3', 63),
      owner,
      type,
      filename,
      contentType: CONTENT_TYPES[extension] ?? part.contentType ?? 'application/octet-stream',
      data: part.data,
      createdAt: this.clock.now(),
    };
    this.items.set(media.mediaId, media);
    const createdAt = Math.floor(media.createdAt / 1000);
    // MP answers without errcode, created_at a number, and a thumb's id under its own name (reference, Corrections).
    if (platform === 'mp')
      return type === 'thumb'
        ? { type: 'thumb', thumb_media_id: media.mediaId, created_at: createdAt }
        : { type, media_id: media.mediaId, created_at: createdAt };
    // WeCom sends created_at as a string and errmsg empty on this API.
    return { errcode: 0, errmsg: '', type, media_id: media.mediaId, created_at: String(createdAt) };
  }

  get(owner: string, mediaId: string | null): Media {
    const media = mediaId ? this.items.get(mediaId) : undefined;
    if (!media || media.owner !== owner || media.createdAt <= this.clock.now() - MEDIA_TTL_MS)
      throw new WxError(40007, 'invalid media_id');
    return media;
  }

  /** True when the media exists for this owner and has not expired. */
  valid(owner: string, mediaId: string): boolean {
    try {
      this.get(owner, mediaId);
      return true;
    } catch {
      return false;
    }
  }
}
