/** The access token was rejected (invalid, not latest, expired): invalidate it, fetch once, retry once. */
export const TOKEN_REJECTED = new Set([40001, 40014, 42001]);

/** System busy, rate limit, concurrency limit: worth retrying later with back-off. */
export const TRANSIENT = new Set([-1, 45009, 45033]);

/** At token time: unknown corp or app id, wrong secret (MP also 40125 invalid appsecret, 40164 IP not allowed). */
export const CREDENTIALS_REJECTED = new Set([40013, 40001, 40125, 40164, 60020]);

/**
 * The simulator's answer to a msgid already used on the kf account. WeCom documents the refusal but not its code
 * (UNVERIFIED), so nothing in kf-bridge acts on it.
 */
export const DUPLICATE_MSGID = 95009;
