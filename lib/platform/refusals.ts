import type { Platform } from '../tokens/platformToken';

/** What a platform errcode means to the person who made the call, and the HTTP status the API answers with. */
export interface Refusal {
  readonly sentence: string;
  readonly status: number;
}

const BAD_REQUEST = 400;
const FORBIDDEN = 403;
const NOT_FOUND = 404;
const CONFLICT = 409;
const UNPROCESSABLE = 422;
const TOO_MANY = 429;
const BUSY = 503;

type Table = Readonly<Record<number, readonly [string, number]>>;

/** Codes both platforms share (WeChat's global return codes). */
const COMMON: Table = {
  [-1]: ['the platform is busy; try again shortly', BUSY],
  40001: ['the access token or app secret was refused', FORBIDDEN],
  40004: ['the file type is not allowed for this media type', BAD_REQUEST],
  40005: ['the file type is not supported', BAD_REQUEST],
  40006: ['the file size is not allowed', BAD_REQUEST],
  40007: ['the media_id is not valid (media expire after 3 days)', BAD_REQUEST],
  40009: ['the image is too large', BAD_REQUEST],
  40011: ['the video is too large', BAD_REQUEST],
  40014: ['the access token is not valid', FORBIDDEN],
  41001: ['the access token is missing', FORBIDDEN],
  42001: ['the access token has expired', FORBIDDEN],
  44001: ['the file is empty', BAD_REQUEST],
  45009: ['the API rate limit was reached; try again in a minute', TOO_MANY],
  45033: ['too many calls at once; try again shortly', TOO_MANY],
  47001: ['the platform could not read the request body', BAD_REQUEST],
  48001: ['this API is not authorised for the account', FORBIDDEN],
};

/** WeCom, kf in particular (reference §6, §8). Codes the reference marks UNVERIFIED say so. */
const WECOM: Table = {
  40003: ['no such member (userid) in the corp', NOT_FOUND],
  40058: ['a parameter is not valid', BAD_REQUEST],
  48002: [
    'the app may not call this API: list it under 微信客服 → 可调用接口的应用 in the WeCom admin console',
    FORBIDDEN,
  ],
  60011: ['the app may not see that member or department (check its visibility range)', FORBIDDEN],
  60020: ["the calling IP is not in the app's trusted IPs (企业可信IP)", FORBIDDEN],
  60111: ['no such member (userid) in the corp', NOT_FOUND],
  60123: ['no such department in the corp', NOT_FOUND],
  95000: ['the open_kfid is not valid', BAD_REQUEST],
  95001: ['the 5 replies allowed per customer message are used up', TOO_MANY],
  95002: ["more than 48 hours have passed since the customer's last message", CONFLICT],
  95003: ['the corp has reached the customer count its verification level allows', FORBIDDEN],
  95004: ['no such kf account (open_kfid) in this corp', NOT_FOUND],
  // The simulator's code for the 5000-account limit; WeCom's own is UNVERIFIED.
  95005: ['the corp already has the most kf accounts allowed (5000)', CONFLICT],
  95011: ['kf is being used inside the WeCom app, so the API may not manage it', FORBIDDEN],
  95012: ['kf is not enabled for this corp', FORBIDDEN],
  95013: ['the session has already ended', CONFLICT],
  95014: ['the servicer is not receiving customers or has not activated WeCom', CONFLICT],
  // 95015 and 95016 are the simulator's codes (reference §8: UNVERIFIED).
  95015: ['the kf account already has the most servicers (2000) or departments (20) allowed', CONFLICT],
  95016: ['the session cannot move to that state from the state it is in', CONFLICT],
  95017: [
    'API management is off for this kf account: hand it to the API in the WeCom admin console',
    FORBIDDEN,
  ],
  95018: [
    'the session is with a servicer or has ended; the API may reply only to new sessions or the assistant',
    CONFLICT,
  ],
};

/** Official Account customer service (reference §12). */
const MP: Table = {
  40003: ['the openid is not a follower of this Official Account', NOT_FOUND],
  45015: ["more than 48 hours have passed since the follower's last message", CONFLICT],
  45047: ['the replies allowed for this follower are used up', TOO_MANY],
  65400: [
    'the new customer service is not enabled for this Official Account (or is still being enabled)',
    FORBIDDEN,
  ],
  65401: ['no such kf account on this Official Account', NOT_FOUND],
  65402: ['the kf account is not bound to a WeChat user yet: invite one first', CONFLICT],
  65403: ['the nickname is not valid (1 to 16 characters)', BAD_REQUEST],
  65404: ['the kf account is not valid (it is prefix@ the Official Account WeChat id)', BAD_REQUEST],
  65405: ['the Official Account already has the most kf accounts allowed', CONFLICT],
  65406: ['that kf account already exists', CONFLICT],
  65407: ['that WeChat user is already a kf worker', CONFLICT],
  65408: ['an invitation to this kf account is already waiting for an answer', CONFLICT],
  65413: ['the follower has no open session', NOT_FOUND],
  65414: ['the follower is in a session with another kf account', CONFLICT],
  65415: ['the kf account is offline', CONFLICT],
  65416: ['a parameter is not valid', BAD_REQUEST],
  65417: ['the time range is over the 24 hours allowed', BAD_REQUEST],
};

const NAMES: Record<Platform, string> = { wecom: 'WeCom', mp: 'the Official Account API' };

/** The meaning of an errcode, or a pointer to where it is explained when it is not in our tables. */
export function describeRefusal(platform: Platform, errcode: number): Refusal {
  const known = (platform === 'wecom' ? WECOM : MP)[errcode] ?? COMMON[errcode];
  if (known) return { sentence: known[0], status: known[1] };
  const lookup =
    platform === 'wecom'
      ? `https://open.work.weixin.qq.com/devtool/query?e=${errcode}`
      : 'the Official Account global return codes';
  return { sentence: `${NAMES[platform]} gave no reason we know; see ${lookup}`, status: UNPROCESSABLE };
}
