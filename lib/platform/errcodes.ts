import type { Platform } from '../tokens/platformToken';

/**
 * The one table of platform errcodes, for kf-bridge and its simulator alike: what each code means as the platform
 * publishes it, the sentence a caller reads, the HTTP status the API answers with, whether a retry can help, and
 * where the meaning comes from. A code no source confirms is `verified: false`: the simulator answers it where
 * the platform is silent, and nothing kf-bridge decides rests on it.
 */
export interface Errcode {
  readonly code: number;
  /** The platform that publishes it; `both` for WeChat's global codes, which mean the same on either. */
  readonly platform: Platform | 'both';
  /** The meaning as the platform publishes it, where it does. */
  readonly official?: string;
  /** What it means to the person who made the call. */
  readonly sentence: string;
  /** The HTTP status the API answers a caller the platform refused. */
  readonly status: number;
  /** Whether a retry can help: with a new access token, after a back-off, or not at all. */
  readonly retry: 'token' | 'backoff' | 'no';
  /** At token time: the app's credentials were refused, which only a settings change fixes. */
  readonly credentials?: true;
  readonly source: string;
  readonly verified: boolean;
  /** What the simulator assumes of the code beyond its published meaning. */
  readonly assumed?: string;
}

const BAD_REQUEST = 400;
const FORBIDDEN = 403;
const NOT_FOUND = 404;
const CONFLICT = 409;
const TOO_MANY = 429;
const BUSY = 503;

const WECOM_TABLE =
  'WeCom global errcodes (doc 90313) as copied in xen0n/go-workwx errcodes/mod.go @ 02abf8b1f3b5 (crawled 2023-08-20)';
const MP_TABLE =
  'Official Account global return codes as copied in wechatpy/wechatpy wechatpy/constants.py @ 05bb2f14acfa and Wechat-Group/weixin-java-tools weixin-java-common/.../error/WxMpErrorMsgEnum.java @ 5dd02408f9d3';
const BOTH_TABLES = `${WECOM_TABLE}; ${MP_TABLE}`;
const MP_KF_DOC =
  'Official Account customer-service docs (developers.weixin.qq.com/doc/service/api/customer/…: createkfsession, session control, kf accounts, msgrecord)';
const MP_TOKEN_DOC =
  "Official Account access_token doc (IP whitelist: '如非白名单IP调用，将返回错误码：40164'), answers quoted in the WeChat developers community";
const SIMULATOR = "kf-bridge's simulator: the platform publishes no code for this";

const kf = (code: number, official: string, sentence: string, status: number) =>
  ({
    code,
    platform: 'wecom',
    official,
    sentence,
    status,
    retry: 'no',
    source: WECOM_TABLE,
    verified: true,
  }) as const;

export const ERRCODES = {
  SYSTEM_BUSY: {
    code: -1,
    platform: 'both',
    official: '系统繁忙',
    sentence: 'the platform is busy; try again shortly',
    status: BUSY,
    retry: 'backoff',
    source: BOTH_TABLES,
    verified: true,
  },
  ACCESS_TOKEN_INVALID: {
    code: 40014,
    platform: 'both',
    official: '不合法的access_token',
    sentence: 'the access token is not valid',
    status: FORBIDDEN,
    retry: 'token',
    source: BOTH_TABLES,
    verified: true,
  },
  ACCESS_TOKEN_MISSING: {
    code: 41001,
    platform: 'both',
    official: '缺少access_token参数',
    sentence: 'the access token is missing',
    status: FORBIDDEN,
    retry: 'no',
    source: BOTH_TABLES,
    verified: true,
  },
  ACCESS_TOKEN_EXPIRED: {
    code: 42001,
    platform: 'both',
    official: 'access_token已过期',
    sentence: 'the access token has expired',
    status: FORBIDDEN,
    retry: 'token',
    source: BOTH_TABLES,
    verified: true,
  },
  MEDIA_TYPE_INVALID: {
    code: 40004,
    platform: 'both',
    official: '不合法的媒体文件类型',
    sentence: 'the file type is not allowed for this media type',
    status: BAD_REQUEST,
    retry: 'no',
    source: BOTH_TABLES,
    verified: true,
  },
  FILE_SIZE_INVALID: {
    code: 40006,
    platform: 'both',
    official: '不合法的文件大小',
    sentence: 'the file size is not allowed',
    status: BAD_REQUEST,
    retry: 'no',
    source: BOTH_TABLES,
    verified: true,
  },
  MEDIA_ID_INVALID: {
    code: 40007,
    platform: 'both',
    official: '不合法的media_id参数',
    sentence: 'the media_id is not valid (media expire after 3 days)',
    status: BAD_REQUEST,
    retry: 'no',
    source: BOTH_TABLES,
    verified: true,
  },
  IMAGE_SIZE_INVALID: {
    code: 40009,
    platform: 'both',
    official: '上传图片大小不是有效值',
    sentence: 'the image size is not allowed',
    status: BAD_REQUEST,
    retry: 'no',
    source: BOTH_TABLES,
    verified: true,
  },
  VIDEO_SIZE_INVALID: {
    code: 40011,
    platform: 'both',
    official: '上传视频大小不是有效值',
    sentence: 'the video size is not allowed',
    status: BAD_REQUEST,
    retry: 'no',
    source: BOTH_TABLES,
    verified: true,
  },
  MEDIA_EMPTY: {
    code: 44001,
    platform: 'both',
    official: '多媒体文件为空',
    sentence: 'the file is empty',
    status: BAD_REQUEST,
    retry: 'no',
    source: BOTH_TABLES,
    verified: true,
  },
  RATE_LIMITED: {
    code: 45009,
    platform: 'both',
    official: '接口调用超过限制',
    sentence: 'the API rate limit was reached; try again in a minute',
    status: TOO_MANY,
    retry: 'backoff',
    source: BOTH_TABLES,
    verified: true,
  },
  API_NOT_AUTHORISED: {
    code: 48001,
    platform: 'both',
    official: 'API功能未授权',
    sentence: 'this API is not authorised for the account',
    status: FORBIDDEN,
    retry: 'no',
    source: BOTH_TABLES,
    verified: true,
  },

  WECOM_SECRET_INVALID: {
    code: 40001,
    platform: 'wecom',
    official: '不合法的secret参数',
    sentence: 'the app secret was refused (wrong, reset since, or the app is disabled)',
    status: FORBIDDEN,
    retry: 'no',
    credentials: true,
    source: WECOM_TABLE,
    verified: true,
  },
  WECOM_USERID_INVALID: {
    code: 40003,
    platform: 'wecom',
    official: '无效的UserID',
    sentence: 'no such member (userid) in the corp',
    status: NOT_FOUND,
    retry: 'no',
    source: WECOM_TABLE,
    verified: true,
  },
  WECOM_MEDIA_TYPE_PARAMETER_INVALID: {
    code: 40005,
    platform: 'wecom',
    official: '不合法的type参数',
    sentence: 'the media type is not one WeCom takes',
    status: BAD_REQUEST,
    retry: 'no',
    source: WECOM_TABLE,
    verified: true,
  },
  WECOM_CORPID_INVALID: {
    code: 40013,
    platform: 'wecom',
    official: '不合法的CorpID',
    sentence: 'the corp id is not valid',
    status: FORBIDDEN,
    retry: 'no',
    credentials: true,
    source: WECOM_TABLE,
    verified: true,
  },
  WECOM_PARAMETER_INVALID: {
    code: 40058,
    platform: 'wecom',
    official: '不合法的参数',
    sentence: 'a parameter is not valid',
    status: BAD_REQUEST,
    retry: 'no',
    source: WECOM_TABLE,
    verified: true,
  },
  WECOM_BODY_UNREADABLE: {
    code: 47001,
    platform: 'wecom',
    sentence: 'the platform could not read the request body',
    status: BAD_REQUEST,
    retry: 'no',
    source: `${SIMULATOR} (WeCom's table has no 47001; its 40058 covers a body that is not JSON)`,
    verified: false,
  },
  CONCURRENCY_LIMITED: {
    code: 45033,
    platform: 'wecom',
    official: '接口并发调用超过限制',
    sentence: 'too many calls at once; try again shortly',
    status: TOO_MANY,
    retry: 'backoff',
    source: WECOM_TABLE,
    verified: true,
  },
  WECOM_API_FORBIDDEN: {
    code: 48002,
    platform: 'wecom',
    official: 'API接口无权限调用',
    sentence:
      'the app may not call this API: list it under 微信客服 → 可调用接口的应用 in the WeCom admin console',
    status: FORBIDDEN,
    retry: 'no',
    source: WECOM_TABLE,
    verified: true,
  },
  KF_ACCOUNT_NOT_AUTHORISED: {
    code: 48007,
    platform: 'wecom',
    official: 'API接口无权限调用，由于对应的客服账号未授权',
    sentence:
      'the kf account is not handed to this app: authorise it under 微信客服 → API in the WeCom admin console',
    status: FORBIDDEN,
    retry: 'no',
    source: WECOM_TABLE,
    verified: true,
  },
  WECOM_OUTSIDE_VISIBILITY: {
    code: 60011,
    platform: 'wecom',
    official: '指定的成员/部门/标签参数无权限',
    sentence: 'the app may not see that member or department (check its visibility range)',
    status: FORBIDDEN,
    retry: 'no',
    source: WECOM_TABLE,
    verified: true,
  },
  WECOM_IP_UNTRUSTED: {
    code: 60020,
    platform: 'wecom',
    official: '不安全的访问IP',
    sentence: "the calling IP is not in the app's trusted IPs (企业可信IP)",
    status: FORBIDDEN,
    retry: 'no',
    credentials: true,
    source: WECOM_TABLE,
    verified: true,
  },
  WECOM_USER_NOT_FOUND: {
    code: 60111,
    platform: 'wecom',
    official: 'UserID不存在',
    sentence: 'no such member (userid) in the corp',
    status: NOT_FOUND,
    retry: 'no',
    source: WECOM_TABLE,
    verified: true,
  },
  WECOM_DEPARTMENT_NOT_FOUND: {
    code: 60123,
    platform: 'wecom',
    official: '无效的部门id',
    sentence: 'no such department in the corp',
    status: NOT_FOUND,
    retry: 'no',
    source: WECOM_TABLE,
    verified: true,
  },

  KF_OPEN_KFID_INVALID: kf(95000, '不合法的open_kfid', 'the open_kfid is not valid', BAD_REQUEST),
  KF_REPLY_LIMIT: kf(
    95001,
    '发送客服消息次数限制',
    'the 5 replies allowed per customer message are used up',
    TOO_MANY,
  ),
  KF_REPLY_WINDOW: kf(
    95002,
    '发送客服消息时间限制',
    "more than 48 hours have passed since the customer's last message",
    CONFLICT,
  ),
  KF_CUSTOMER_LIMIT: kf(
    95003,
    '发送客服消息可接待客户咨询数限制',
    'the corp has reached the customer count its verification level allows',
    FORBIDDEN,
  ),
  KF_ACCOUNT_NOT_FOUND: kf(
    95004,
    'open_kfid不存在',
    'no such kf account (open_kfid) in this corp',
    NOT_FOUND,
  ),
  KF_ACCOUNT_LIMIT: kf(
    95005,
    '客服账号数超过限制',
    'the corp already has the most kf accounts allowed (5000), or would be left with none',
    CONFLICT,
  ),
  KF_ACCOUNT_NAME_INVALID: kf(95006, '不合法的客服账号名', 'the kf account name is not valid', BAD_REQUEST),
  KF_MSGTOKEN_INVALID: {
    ...kf(
      95007,
      '不合法的msgtoken',
      'the token or code is not valid: it may have expired or been used (WeCom: msgtoken)',
      CONFLICT,
    ),
    assumed:
      'answered for an unknown, used or expired send_msg_on_event code: WeCom does not say which tokens "msgtoken" covers',
  },
  KF_MENU_TOO_MANY_ITEMS: kf(
    95008,
    '菜单消息的菜单项个数超过上限',
    'the menu has more items than WeCom allows (10)',
    BAD_REQUEST,
  ),
  KF_MENU_ITEM_TYPE_INVALID: kf(
    95009,
    '不合法的菜单消息的菜单项类型',
    'a menu item has a type WeCom does not take',
    BAD_REQUEST,
  ),
  KF_IN_WECOM_APP: kf(
    95011,
    '已在企业微信使用微信客服',
    'kf is used inside the WeCom app (联合版), but the access token comes from the standalone kf secret',
    FORBIDDEN,
  ),
  KF_NOT_IN_WECOM_APP: kf(
    95012,
    '未在企业微信使用微信客服',
    'kf is used standalone (独立版), but the access token comes from a WeCom app secret',
    FORBIDDEN,
  ),
  KF_SESSION_ENDED: kf(95013, '会话已经结束', 'the session has already ended', CONFLICT),
  KF_NOT_A_SERVICER: kf(
    95014,
    '用户不是接待人员',
    'the user is not a servicer of this kf account, or has not activated WeCom',
    CONFLICT,
  ),
  KF_DEDICATED_SERVICE: kf(
    95015,
    '管理端已经配置了专属服务',
    'a dedicated service (专属服务) is configured for this in the WeCom admin console',
    CONFLICT,
  ),
  KF_STATE_CHANGE_REFUSED: kf(
    95016,
    '不允许这种状态转移',
    'the session cannot move to that state from the state it is in',
    CONFLICT,
  ),
  KF_API_SWITCH_OFF: kf(
    95017,
    '基础应用权限下，api开关处于关闭状态',
    'the kf API switch is off: turn it on under 微信客服 → API in the WeCom admin console',
    FORBIDDEN,
  ),
  KF_SESSION_REFUSES_REPLIES: kf(
    95018,
    '发送客服消息时当前会话状态不允许发送',
    'the session does not take API replies: a servicer or the pool has it, it has ended, or it is over 48 hours old',
    CONFLICT,
  ),
  KF_SERVICER_NOT_RECEIVING: kf(
    95019,
    '接待人员已停止接待或暂时挂起，无法完成指定的操作',
    'the servicer has stopped receiving customers or is paused',
    CONFLICT,
  ),
  KF_LOCATION_TYPE_INVALID: kf(95022, 'location_type非法', 'the location_type is not valid', BAD_REQUEST),
  KF_API_HANDED_ELSEWHERE: kf(
    95023,
    '基础应用权限下，api开关已经授权给代开发自建应用',
    'the kf API is handed to a custom-developed app (代开发自建应用): switch it under 微信客服 in the WeCom admin console',
    FORBIDDEN,
  ),
  KF_ACCOUNTS_LITTLE_USED: kf(
    95026,
    '客服账号使用率较低，暂无法创建',
    "the corp's kf accounts are little used, so WeCom allows no new one for now",
    CONFLICT,
  ),
  KF_UNVERIFIED_CORP_ACCOUNT_LIMIT: kf(
    95027,
    '企业未认证，仅可创建10个客服账号',
    'an unverified corp may have only 10 kf accounts',
    FORBIDDEN,
  ),
  KF_MSGID_REPEATED: {
    code: 95901,
    platform: 'wecom',
    sentence: "the msgid was already used on this kf account (the simulator's code; WeCom publishes none)",
    status: CONFLICT,
    retry: 'no',
    source: `${SIMULATOR} (doc 96427: a repeated msgid "接口返回错误")`,
    verified: false,
  },
  KF_SERVICER_LIMIT: {
    code: 95902,
    platform: 'wecom',
    sentence:
      "the kf account already has the most servicers (2000) or departments (20) allowed (the simulator's code; WeCom publishes none)",
    status: CONFLICT,
    retry: 'no',
    source: SIMULATOR,
    verified: false,
  },

  MP_CREDENTIAL_INVALID: {
    code: 40001,
    platform: 'mp',
    official: '获取 access_token 时 AppSecret 错误，或者 access_token 无效',
    sentence: 'the app secret or the access token was refused',
    status: FORBIDDEN,
    retry: 'token',
    credentials: true,
    source: MP_TABLE,
    verified: true,
  },
  MP_OPENID_INVALID: {
    code: 40003,
    platform: 'mp',
    official: '不合法的 OpenID',
    sentence: 'the openid is not a follower of this Official Account',
    status: NOT_FOUND,
    retry: 'no',
    source: MP_TABLE,
    verified: true,
  },
  MP_FILE_TYPE_INVALID: {
    code: 40005,
    platform: 'mp',
    official: '不合法的文件类型',
    sentence: 'the file type is not supported',
    status: BAD_REQUEST,
    retry: 'no',
    source: MP_TABLE,
    verified: true,
  },
  MP_APPID_INVALID: {
    code: 40013,
    platform: 'mp',
    official: '不合法的 AppID',
    sentence: 'the appid is not valid',
    status: FORBIDDEN,
    retry: 'no',
    credentials: true,
    source: MP_TABLE,
    verified: true,
  },
  MP_APPSECRET_INVALID: {
    code: 40125,
    platform: 'mp',
    official: '无效的 AppSecret',
    sentence: 'the app secret is not valid',
    status: FORBIDDEN,
    retry: 'no',
    credentials: true,
    source: MP_TABLE,
    verified: true,
  },
  MP_IP_NOT_WHITELISTED: {
    code: 40164,
    platform: 'mp',
    sentence: "the calling IP is not in the Official Account's IP whitelist",
    status: FORBIDDEN,
    retry: 'no',
    credentials: true,
    source: MP_TOKEN_DOC,
    verified: true,
  },
  MP_TOO_MANY_ARTICLES: {
    code: 45008,
    platform: 'mp',
    official: '图文消息超过限制',
    sentence: 'the news message has more articles than allowed',
    status: BAD_REQUEST,
    retry: 'no',
    source: MP_TABLE,
    verified: true,
  },
  MP_REPLY_WINDOW: {
    code: 45015,
    platform: 'mp',
    official: '回复时间超过限制',
    sentence: "more than 48 hours have passed since the follower's last message",
    status: CONFLICT,
    retry: 'no',
    source: MP_TABLE,
    verified: true,
  },
  MP_REPLY_LIMIT: {
    code: 45047,
    platform: 'mp',
    official: '客服接口下行条数超过上限',
    sentence: 'the replies allowed for this follower are used up',
    status: TOO_MANY,
    retry: 'no',
    source: MP_TABLE,
    verified: true,
  },
  MP_BODY_UNREADABLE: {
    code: 47001,
    platform: 'mp',
    official: '解析 JSON/XML 内容错误',
    sentence: 'the platform could not read the request body',
    status: BAD_REQUEST,
    retry: 'no',
    source: MP_TABLE,
    verified: true,
  },
  MP_FOLLOWER_REFUSES_MESSAGES: {
    code: 48002,
    platform: 'mp',
    official: '粉丝拒收消息（粉丝在公众号选项中，关闭了 “ 接收消息 ” ）',
    sentence: 'the follower has turned off messages from this Official Account',
    status: CONFLICT,
    retry: 'no',
    source: MP_TABLE,
    verified: true,
  },
  MP_KF_NOT_ENABLED: {
    code: 65400,
    platform: 'mp',
    official: 'API不可用，即没有开通/升级到新版客服功能',
    sentence: 'the new customer service is not enabled for this Official Account (or is still being enabled)',
    status: FORBIDDEN,
    retry: 'no',
    source: MP_KF_DOC,
    verified: true,
  },
  MP_KF_ACCOUNT_NOT_FOUND: {
    code: 65401,
    platform: 'mp',
    official: '无效的客服账号',
    sentence: 'no such kf account on this Official Account',
    status: NOT_FOUND,
    retry: 'no',
    source: MP_KF_DOC,
    verified: true,
  },
  MP_KF_ACCOUNT_UNBOUND: {
    code: 65402,
    platform: 'mp',
    official: '账号尚未绑定微信号，不能投入使用',
    sentence: 'the kf account is not bound to a WeChat user yet: invite one first',
    status: CONFLICT,
    retry: 'no',
    source: MP_KF_DOC,
    verified: true,
  },
  MP_KF_NICKNAME_INVALID: {
    code: 65403,
    platform: 'mp',
    sentence: 'the nickname is not valid (1 to 16 characters)',
    status: BAD_REQUEST,
    retry: 'no',
    source: MP_KF_DOC,
    verified: true,
  },
  MP_KF_ACCOUNT_INVALID: {
    code: 65404,
    platform: 'mp',
    sentence: 'the kf account is not valid (it is prefix@ the Official Account WeChat id)',
    status: BAD_REQUEST,
    retry: 'no',
    source: MP_KF_DOC,
    verified: true,
  },
  MP_KF_ACCOUNT_LIMIT: {
    code: 65405,
    platform: 'mp',
    sentence: 'the Official Account already has the most kf accounts allowed',
    status: CONFLICT,
    retry: 'no',
    source: MP_KF_DOC,
    verified: true,
  },
  MP_KF_ACCOUNT_EXISTS: {
    code: 65406,
    platform: 'mp',
    sentence: 'that kf account already exists',
    status: CONFLICT,
    retry: 'no',
    source: MP_KF_DOC,
    verified: true,
  },
  MP_KF_WORKER_EXISTS: {
    code: 65407,
    platform: 'mp',
    sentence: 'that WeChat user is already a kf worker',
    status: CONFLICT,
    retry: 'no',
    source: MP_KF_DOC,
    verified: true,
  },
  MP_KF_INVITATION_WAITING: {
    code: 65408,
    platform: 'mp',
    sentence: 'an invitation to this kf account is already waiting for an answer',
    status: CONFLICT,
    retry: 'no',
    source: MP_KF_DOC,
    verified: true,
  },
  MP_NO_SESSION: {
    code: 65413,
    platform: 'mp',
    official: '不存在对应用户的会话信息',
    sentence: 'the follower has no open session',
    status: NOT_FOUND,
    retry: 'no',
    source: MP_KF_DOC,
    verified: true,
  },
  MP_SESSION_ELSEWHERE: {
    code: 65414,
    platform: 'mp',
    official: '客户正在被其他客服接待',
    sentence: 'the follower is in a session with another kf account',
    status: CONFLICT,
    retry: 'no',
    source: MP_KF_DOC,
    verified: true,
  },
  MP_KF_OFFLINE: {
    code: 65415,
    platform: 'mp',
    official: '指定的客服不在线',
    sentence: 'the kf account is offline',
    status: CONFLICT,
    retry: 'no',
    source: MP_KF_DOC,
    verified: true,
  },
  MP_KF_PARAMETER_INVALID: {
    code: 65416,
    platform: 'mp',
    sentence: 'a parameter is not valid',
    status: BAD_REQUEST,
    retry: 'no',
    source: MP_KF_DOC,
    verified: true,
  },
  MP_KF_RANGE_TOO_LONG: {
    code: 65417,
    platform: 'mp',
    sentence: 'the time range is over the 24 hours allowed',
    status: BAD_REQUEST,
    retry: 'no',
    source: MP_KF_DOC,
    verified: true,
  },
} as const satisfies Record<string, Errcode>;

export type ErrcodeName = keyof typeof ERRCODES;

const entries: readonly Errcode[] = Object.values(ERRCODES);

/** The entry for a code one platform answered, if the table has it. */
export function lookupErrcode(platform: Platform, code: number): Errcode | undefined {
  return entries.find(
    (entry) => entry.code === code && (entry.platform === platform || entry.platform === 'both'),
  );
}

// One set for both platforms, as the client and the token provider consult them: a code is in it when either
// platform gives it that meaning (40001 is a rejected token on MP only; on WeCom it costs one extra token call).
const codesWhere = (test: (entry: Errcode) => boolean) =>
  new Set(entries.filter(test).map((entry) => entry.code));

/** The access token was rejected (invalid, not latest, expired): invalidate it, fetch once, retry once. */
export const TOKEN_REJECTED = codesWhere((entry) => entry.retry === 'token');

/** System busy, rate limit, concurrency limit: worth retrying later with back-off. */
export const TRANSIENT = codesWhere((entry) => entry.retry === 'backoff');

/** At token time: an unknown corp or app id, a wrong secret, a calling IP the platform does not trust. */
export const CREDENTIALS_REJECTED = codesWhere((entry) => entry.credentials === true);
