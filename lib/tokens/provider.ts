import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/config';
import { CredentialsError, DependencyError } from '../errors';
import type { Log } from '../logger';
import type { Meter } from '../metrics';
import type { FetchToken, Platform } from './platformToken';
import { RECENT_FETCH_MS, type TokenItem, type TokenStore, tokenKey } from './store';

export interface TokenProviderOptions {
  readonly store: TokenStore;
  readonly fetchToken: FetchToken;
  readonly now: () => number;
  readonly log: Log;
  readonly meter: Meter;
  /** Callers renew a token with less than this left (default 5 min), so no call carries one about to expire. */
  readonly renewBeforeMs?: number;
  /** How long the fetch lease lasts (default 10 s): long enough for one token call, short if its holder dies. */
  readonly leaseMs?: number;
  /** How long a caller that lost the lease waits for the winner's token before trying again (default 3 s). */
  readonly waitMs?: number;
  /** How long a rejection of the credentials is remembered, so callers fail fast instead of storming (default 60 s). */
  readonly credentialsBackoffMs?: number;
}

export type TokenProvider = ReturnType<typeof createTokenProvider>;

/** One caller's call: its deadline, and its log (keyed by the record it works on) for the lines it causes. */
export interface TokenCall {
  readonly signal?: AbortSignal | undefined;
  readonly log?: Log | undefined;
}
export type RefreshOutcome = 'fresh' | 'refreshed' | 'busy';

// MP renews a stable token only in its last 5 minutes; asking earlier returns the same token.
const MP_RENEWAL_WINDOW_MS = 300_000;
const MP_FORCE_REFRESHES_PER_DAY = 20;
const MP_FORCE_REFRESH_SPACING_MS = 30_000;

/**
 * Access tokens for every app: in-memory per container, then the DynamoDB item, then one fetch under a
 * lease however many callers need it at once. Callers that lose the lease read the winner's token.
 */
export function createTokenProvider(options: TokenProviderOptions) {
  const { store, fetchToken, now, meter } = options;
  const renewBeforeMs = options.renewBeforeMs ?? 300_000;
  const leaseMs = options.leaseMs ?? 10_000;
  const waitMs = options.waitMs ?? 3000;
  const credentialsBackoffMs = options.credentialsBackoffMs ?? 60_000;
  const owner = randomUUID();
  const memory = new Map<string, { token: string; expiresAt: number }>();
  const inflight = new Map<string, Promise<string>>();

  /** A stored token callers may use: not about to expire, or just fetched (a platform may hand out short-lived ones). */
  const usable = (item: TokenItem | undefined): item is TokenItem & { token: string; expiresAt: number } =>
    !!item?.token &&
    item.expiresAt !== undefined &&
    item.expiresAt > now() &&
    (item.expiresAt - now() > renewBeforeMs || (item.fetchedAt ?? 0) > now() - RECENT_FETCH_MS);

  function rejectedRecently(app: AppConfig, platform: Platform, item: TokenItem | undefined): void {
    if (
      item?.credentialsRejectedAt !== undefined &&
      item.credentialsRejectedAt > now() - credentialsBackoffMs
    ) {
      throw new CredentialsError(
        `app '${app.name}': ${platform} credentials were rejected (errcode ${item.credentialsErrcode}); fix the settings`,
        {
          ...(item.credentialsErrcode !== undefined && { errcode: item.credentialsErrcode }),
        },
      );
    }
  }

  /** After a confirmed rejection, MP's normal mode could hand the same token back: force a new one, within limits. */
  function forceRefreshPlan(platform: Platform, item: TokenItem | undefined): number[] | undefined {
    if (platform !== 'mp' || !item?.invalidatedToken) return undefined;
    const today = (item.forceRefreshes ?? []).filter((at) => at > now() - 86_400_000);
    if (
      today.length >= MP_FORCE_REFRESHES_PER_DAY ||
      (today.at(-1) ?? 0) > now() - MP_FORCE_REFRESH_SPACING_MS
    )
      return undefined;
    return [...today, now()];
  }

  async function fetchUnderLease(
    key: string,
    app: AppConfig,
    platform: Platform,
    item: TokenItem | undefined,
    { signal, log = options.log }: TokenCall = {},
  ): Promise<string> {
    const forceRefreshes = forceRefreshPlan(platform, item);
    let fetched: Awaited<ReturnType<FetchToken>>;
    try {
      fetched = await fetchToken(app, platform, {
        forceRefresh: forceRefreshes !== undefined,
        ...(signal && { signal }),
      });
    } catch (error) {
      if (error instanceof CredentialsError) {
        // Once per rejection: callers that follow within the back-off fail fast without asking the platform.
        log.error('token credentials rejected', { app: app.name, platform, errcode: error.errcode });
        // No errcode: the app has no settings for the platform at all.
        const errcode = String(error.errcode ?? 'none');
        meter.record('CredentialsRejected', 1, { app: app.name, platform, errcode });
        await store.releaseLease(key, owner, { errcode: error.errcode ?? 0, at: now() });
      } else {
        await store.releaseLease(key, owner);
      }
      throw error;
    }
    const expiresAt = now() + fetched.expiresInSeconds * 1000;
    if (!(await store.save(key, owner, fetched.token, expiresAt, now(), forceRefreshes))) {
      log.warn('token lease expired before the token was saved', { app: app.name, platform });
    }
    memory.set(key, { token: fetched.token, expiresAt });
    log.info('token fetched', {
      app: app.name,
      platform,
      forceRefresh: forceRefreshes !== undefined,
      expiresInSeconds: fetched.expiresInSeconds,
    });
    return fetched.token;
  }

  async function load(key: string, app: AppConfig, platform: Platform, call: TokenCall): Promise<string> {
    const deadline = now() + leaseMs + waitMs * 2;
    while (true) {
      const item = await store.read(key);
      if (usable(item)) {
        memory.set(key, { token: item.token, expiresAt: item.expiresAt });
        return item.token;
      }
      rejectedRecently(app, platform, item);
      if (
        await store.acquireLease(
          key,
          owner,
          now(),
          leaseMs,
          now() + renewBeforeMs,
          now() - credentialsBackoffMs,
        )
      )
        return fetchUnderLease(key, app, platform, item, call);
      // Another caller is fetching: read its token rather than calling the platform too.
      const waitUntil = Math.min(now() + waitMs, deadline);
      while (now() < waitUntil) {
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
        const current = await store.read(key);
        if (usable(current)) {
          memory.set(key, { token: current.token, expiresAt: current.expiresAt });
          return current.token;
        }
        rejectedRecently(app, platform, current);
        if (!current?.leaseUntil || current.leaseUntil < now()) break;
      }
      if (now() >= deadline)
        throw new DependencyError(`app '${app.name}': timed out waiting for a ${platform} token`);
    }
  }

  /** Callers that ask while a fetch is under way share it, and its lines go to the log of the caller that began it. */
  async function getToken(app: AppConfig, platform: Platform, call: TokenCall = {}): Promise<string> {
    const key = tokenKey(app, platform);
    const cached = memory.get(key);
    if (cached && cached.expiresAt - now() > renewBeforeMs) return cached.token;
    const running = inflight.get(key);
    if (running) return running;
    const loading = load(key, app, platform, call).finally(() => inflight.delete(key));
    inflight.set(key, loading);
    return loading;
  }

  /** The platform rejected `token`: forget it here and in the store, unless a newer one has replaced it already. */
  async function invalidate(
    app: AppConfig,
    platform: Platform,
    token: string,
    log: Log = options.log,
  ): Promise<boolean> {
    const key = tokenKey(app, platform);
    if (memory.get(key)?.token === token) memory.delete(key);
    const confirmed = await store.invalidate(key, token);
    log.info('token rejected by the platform', { app: app.name, platform, confirmed });
    return confirmed;
  }

  /** For the schedule: fetch when the stored token has less than `marginMs` left (MP: its renewal window). */
  async function refreshIfExpiring(
    app: AppConfig,
    platform: Platform,
    marginMs: number,
  ): Promise<RefreshOutcome> {
    const key = tokenKey(app, platform);
    const item = await store.read(key);
    const margin = platform === 'mp' ? Math.min(marginMs, MP_RENEWAL_WINDOW_MS) : marginMs;
    if (item?.token && item.expiresAt !== undefined && item.expiresAt - now() > margin) return 'fresh';
    rejectedRecently(app, platform, item);
    if (!(await store.acquireLease(key, owner, now(), leaseMs, now() + margin, now() - credentialsBackoffMs)))
      return 'busy';
    await fetchUnderLease(key, app, platform, item);
    return 'refreshed';
  }

  return { getToken, invalidate, refreshIfExpiring };
}
