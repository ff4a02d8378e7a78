/** The access token was rejected (invalid, not latest, expired): invalidate it, fetch once, retry once. */
export const TOKEN_REJECTED = new Set([40001, 40014, 42001]);

/** System busy, rate limit, concurrency limit: worth retrying later with back-off. */
export const TRANSIENT = new Set([-1, 45009, 45033]);

/** At token time: unknown corp or app id, wrong secret (MP also 40125 invalid appsecret, 40164 IP not allowed). */
export const CREDENTIALS_REJECTED = new Set([40013, 40001, 40125, 40164, 60020]);

/**
 * kf/send_msg refusing a msgid already used on the kf account. WeCom documents the refusal but not its code
 * (UNVERIFIED); the simulator answers this one. A sender retrying after a crash reads it as "already sent".
 */
export const DUPLICATE_MSGID = 95009;

/** kf: the open_kfid does not exist in the corp (deleted, or never was). */
export const NO_SUCH_KF_ACCOUNT = 95004;
