import type { Platform } from '../tokens/platformToken';
import { lookupErrcode } from './errcodes';

/** What a platform errcode means to the person who made the call, and the HTTP status the API answers with. */
export interface Refusal {
  readonly sentence: string;
  readonly status: number;
}

const UNPROCESSABLE = 422;
const NAMES: Record<Platform, string> = { wecom: 'WeCom', mp: 'the Official Account API' };

/** The meaning of an errcode, or a pointer to where it is explained when it is not in the table. */
export function describeRefusal(platform: Platform, errcode: number): Refusal {
  const known = lookupErrcode(platform, errcode);
  if (known) return { sentence: known.sentence, status: known.status };
  const lookup =
    platform === 'wecom'
      ? `https://open.work.weixin.qq.com/devtool/query?e=${errcode}`
      : 'the Official Account global return codes';
  return { sentence: `${NAMES[platform]} gave no reason we know; see ${lookup}`, status: UNPROCESSABLE };
}
