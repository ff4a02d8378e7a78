import type { Config } from '../config/config';
import { KfBridgeError } from '../errors';
import type { ItemStore } from '../items/itemStore';
import type { Log } from '../logger';
import type { Meter } from '../metrics';
import { fetchPlatformToken } from './platformToken';
import { createTokenProvider } from './provider';
import { type RefreshReport, refreshAllTokens } from './refreshAll';
import { TokenStore } from './store';

/** The token refresher's pieces, built once per container. */
export function tokenRefreshWiring(
  config: Config,
  clients: { items: ItemStore; log: Log; meter: Meter; now?: () => number },
): { refresh(): Promise<RefreshReport> } {
  const tokens = createTokenProvider({
    store: new TokenStore(clients.items, config.stateTable),
    fetchToken: fetchPlatformToken,
    now: clients.now ?? Date.now,
    log: clients.log,
    meter: clients.meter,
  });
  return {
    async refresh() {
      const report = await refreshAllTokens(
        config,
        tokens,
        config.tokenRefreshMarginSeconds * 1000,
        clients.log,
        clients.meter,
      );
      // A failed refresh also fails the invocation, so Lambda's own error metric sees it.
      if (report.failed.length > 0)
        throw new KfBridgeError(
          `token refresh failed for ${report.failed.map((f) => `${f.app}/${f.platform}`).join(', ')}`,
        );
      return report;
    },
  };
}
