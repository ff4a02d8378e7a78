import { FetchError, ofetch } from 'ofetch';
import type { AppConfig } from '../config/config';
import { CredentialsError, DependencyError, PlatformError } from '../errors';
import { CREDENTIALS_REJECTED, TRANSIENT } from '../platform/errcodes';
import { describeRefusal } from '../platform/refusals';

export type Platform = 'wecom' | 'mp';

export interface FetchedToken {
  readonly token: string;
  readonly expiresInSeconds: number;
}

export type FetchToken = (
  app: AppConfig,
  platform: Platform,
  options: { forceRefresh: boolean; signal?: AbortSignal },
) => Promise<FetchedToken>;

interface TokenAnswer {
  errcode?: number;
  errmsg?: string;
  access_token?: string;
  expires_in?: number;
}

const PLATFORM_NAME = { wecom: 'WeCom', mp: 'Official Account' } as const;

/**
 * Fetches a new token from the platform: WeCom `gettoken`, MP `stable_token` (normal mode unless a rejected
 * token must be replaced at once). Credentials errors name the app and never carry the secret.
 */
export const fetchPlatformToken: FetchToken = async (app, platform, { forceRefresh, signal }) => {
  let answer: TokenAnswer;
  try {
    if (platform === 'wecom') {
      const wecom = app.wecom;
      if (!wecom) throw new CredentialsError(`app '${app.name}' has no WeCom settings`);
      answer = await ofetch<TokenAnswer>(`${wecom.apiBase}/cgi-bin/gettoken`, {
        query: { corpid: wecom.corpId, corpsecret: wecom.kfSecret },
        timeout: 5000,
        retry: 0,
        signal,
      });
    } else {
      const mp = app.mp;
      if (!mp) throw new CredentialsError(`app '${app.name}' has no Official Account settings`);
      answer = await ofetch<TokenAnswer>(`${mp.apiBase}/cgi-bin/stable_token`, {
        method: 'POST',
        body: {
          grant_type: 'client_credential',
          appid: mp.appId,
          secret: mp.appSecret,
          force_refresh: forceRefresh,
        },
        timeout: 5000,
        retry: 0,
        signal,
      });
    }
  } catch (error) {
    if (error instanceof CredentialsError) throw error;
    // The URL of a failed request carries the secret in its query: never pass the fetch error's message on.
    const status = error instanceof FetchError ? error.statusCode : undefined;
    throw new DependencyError(
      `${PLATFORM_NAME[platform]} token endpoint failed${status ? ` (HTTP ${status})` : ''} for app '${app.name}'`,
    );
  }
  const errcode = answer.errcode ?? 0;
  if (errcode !== 0) {
    if (CREDENTIALS_REJECTED.has(errcode)) {
      throw new CredentialsError(
        `app '${app.name}': ${PLATFORM_NAME[platform]} rejected its credentials (errcode ${errcode})`,
        { errcode },
      );
    }
    const refusal = describeRefusal(platform, errcode);
    throw new PlatformError(
      `app '${app.name}': ${PLATFORM_NAME[platform]} token endpoint refused: ${refusal.sentence} (errcode ${errcode})`,
      errcode,
      TRANSIENT.has(errcode),
      refusal.status,
    );
  }
  if (!answer.access_token || typeof answer.expires_in !== 'number') {
    throw new DependencyError(
      `app '${app.name}': ${PLATFORM_NAME[platform]} token answer has no access_token`,
    );
  }
  return { token: answer.access_token, expiresInSeconds: answer.expires_in };
};
