import type { Config } from '../config/config';
import { KfBridgeError } from '../errors';
import type { Log } from '../logger';
import type { Meter } from '../metrics';
import type { Platform } from './platformToken';
import type { RefreshOutcome, TokenProvider } from './provider';

export interface RefreshReport {
  readonly refreshed: string[];
  readonly fresh: string[];
  readonly busy: string[];
  readonly failed: { app: string; platform: Platform; reason: string }[];
}

/** The scheduled job: every configured app's token on every platform it uses, one at a time. */
export async function refreshAllTokens(
  config: Config,
  tokens: TokenProvider,
  marginMs: number,
  log: Log,
  meter: Meter,
): Promise<RefreshReport> {
  const report: RefreshReport = { refreshed: [], fresh: [], busy: [], failed: [] };
  for (const app of config.apps.values()) {
    const platforms: Platform[] = [
      ...(app.wecom ? ['wecom' as const] : []),
      ...(app.mp ? ['mp' as const] : []),
    ];
    for (const platform of platforms) {
      try {
        const outcome: RefreshOutcome = await tokens.refreshIfExpiring(app, platform, marginMs);
        report[outcome].push(`${app.name}/${platform}`);
      } catch (error) {
        const reason = error instanceof KfBridgeError ? error.message : 'unexpected error';
        report.failed.push({ app: app.name, platform, reason });
        log.error('token refresh failed', { app: app.name, platform, reason, error });
        meter.record('TokenRefreshFailures', 1, { app: app.name, platform });
      }
    }
  }
  log.info('token refresh done', { ...report });
  return report;
}
