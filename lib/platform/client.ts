import { FetchError, ofetch } from 'ofetch';
import type { AppConfig } from '../config/config';
import { DependencyError, NotFoundError, PlatformError } from '../errors';
import type { Platform } from '../tokens/platformToken';
import type { TokenProvider } from '../tokens/provider';
import { TOKEN_REJECTED, TRANSIENT } from './errcodes';

export interface PlatformRequest {
  readonly path: string;
  readonly method?: 'GET' | 'POST';
  readonly query?: Record<string, string>;
  readonly body?: unknown;
  readonly signal?: AbortSignal;
}

export interface PlatformAnswer {
  readonly errcode?: number;
  readonly errmsg?: string;
  readonly [field: string]: unknown;
}

export type PlatformCall = (
  app: AppConfig,
  platform: Platform,
  request: PlatformRequest,
) => Promise<PlatformAnswer>;

function apiBase(app: AppConfig, platform: Platform): string {
  const base = platform === 'wecom' ? app.wecom?.apiBase : app.mp?.apiBase;
  if (!base)
    throw new NotFoundError(
      `app '${app.name}' has no ${platform === 'wecom' ? 'WeCom' : 'Official Account'} settings`,
    );
  return base;
}

/**
 * Calls a WeCom or MP API with the app's access token. Both answer HTTP 200 with an errcode: a non-zero one
 * becomes a PlatformError (retryable for -1, 45009, 45033); a rejected token is invalidated, fetched once and
 * the call retried once.
 */
export function createPlatformClient(tokens: TokenProvider): PlatformCall {
  return async (app, platform, request) => {
    const base = apiBase(app, platform);
    for (let attempt = 0; ; attempt++) {
      const token = await tokens.getToken(app, platform, request.signal);
      let answer: PlatformAnswer;
      try {
        answer = await ofetch<PlatformAnswer>(`${base}${request.path}`, {
          method: request.method ?? (request.body === undefined ? 'GET' : 'POST'),
          query: { ...request.query, access_token: token },
          ...(request.body !== undefined && { body: request.body as Record<string, unknown> }),
          timeout: 10_000,
          retry: 0,
          ...(request.signal && { signal: request.signal }),
        });
      } catch (error) {
        // The failed URL carries the access token: report the path and status only.
        const status = error instanceof FetchError ? error.statusCode : undefined;
        throw new DependencyError(
          `${request.path} failed${status ? ` with HTTP ${status}` : ''} for app '${app.name}'`,
        );
      }
      const errcode = answer.errcode ?? 0;
      if (errcode === 0) return answer;
      if (TOKEN_REJECTED.has(errcode) && attempt === 0) {
        await tokens.invalidate(app, platform, token);
        continue;
      }
      throw new PlatformError(
        `${request.path} answered errcode ${errcode} for app '${app.name}'`,
        errcode,
        TRANSIENT.has(errcode),
      );
    }
  };
}
