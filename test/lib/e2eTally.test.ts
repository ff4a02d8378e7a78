import { describe, expect, it } from 'vitest';
import { tally } from '../../local/e2e';

describe('the e2e tally', () => {
  const expected = new Map([
    ['kf#a', ['a1', 'a2', 'a3']],
    ['kf#b', ['b1', 'b2']],
  ]);

  it('finds nothing wrong in an exact delivery, whatever the interleaving of customers', () => {
    const delivered = ['b1', 'a1', 'a2', 'b2', 'a3'].map((id) => ({ customer: `kf#${id[0]}`, id }));
    expect(tally(expected, delivered)).toEqual({
      expected: 5,
      delivered: 5,
      duplicates: 0,
      lost: 0,
      outOfOrder: 0,
    });
  });

  it('counts duplicates, losses and messages out of order per customer', () => {
    const delivered = ['a2', 'a1', 'b1', 'b1', 'a2'].map((id) => ({ customer: `kf#${id[0]}`, id }));
    expect(tally(expected, delivered)).toEqual({
      expected: 5,
      delivered: 3,
      duplicates: 2,
      lost: 2,
      outOfOrder: 1,
    });
  });
});
