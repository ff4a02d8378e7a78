import type { Platform } from '../tokens/platformToken';

const KB = 1024;
const MB = 1024 * KB;

/**
 * The largest temporary media each platform takes, by type: WeCom's `media/upload` (reference §10, doc 96484)
 * and the Official Account's (新增临时素材: image 10 MB, voice 2 MB, video 10 MB, thumb 64 KB).
 */
export const MEDIA_MAX_BYTES: Readonly<Record<Platform, Readonly<Record<string, number>>>> = {
  wecom: { image: 10 * MB, voice: 2 * MB, video: 10 * MB, file: 20 * MB },
  mp: { image: 10 * MB, voice: 2 * MB, video: 10 * MB, thumb: 64 * KB },
};

/** A size as the platforms' docs write it: 10 MB, 64 KB. */
export const sizeText = (bytes: number) => (bytes >= MB ? `${bytes / MB} MB` : `${bytes / KB} KB`);
