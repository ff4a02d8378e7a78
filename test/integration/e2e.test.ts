import { describe, expect, it } from 'vitest';
import { runInboundE2e } from '../../local/e2e';

describe('end to end under the default fault profile', () => {
  it('delivers every customer message exactly once and in order, and every reply exactly once', async () => {
    const result = await runInboundE2e({ messages: 600, faults: 'default', seed: 11 });
    expect(result.inbound).toEqual({
      expected: 600,
      delivered: 600,
      duplicates: 0,
      lost: 0,
      outOfOrder: 0,
      quarantined: 0,
      quarantineKept: 0,
      mediaNotArchived: {},
    });
    expect(result.outbound).toEqual({
      requested: result.outbound.requested,
      delivered: result.outbound.requested,
      duplicates: 0,
      rejected: 0,
      failed: 0,
      uncertain: 0,
      outOfOrder: 0,
    });
    // kf customers' three replies each, and eight Official Account followers' typing and five replies each.
    expect(result.outbound.requested).toBeGreaterThanOrEqual(60 + 8 * 6);
    expect(result.injected.crashesBeforeCursorCommit).toBeGreaterThan(0);
    expect(result.injected.platformFaults).toBeGreaterThan(0);
  }, 240_000);
});
