import { describe, expect, it } from 'vitest';
import { shapeDifferences } from './shape';

describe('shapeDifferences', () => {
  it('finds nothing between payloads of one shape, whatever the values', () => {
    expect(
      shapeDifferences(
        { a: 'x', n: 1, list: [{ id: 'p' }] },
        { list: [{ id: 'q' }, { id: 'r' }], n: 2, a: '' },
      ),
    ).toEqual([]);
  });

  it('reports a different JSON type, a missing field and an extra field, by path', () => {
    expect(
      shapeDifferences({ kf_id: '1001', list: [{ a: 1 }] }, { kf_id: 1001, list: [{ a: 1, b: true }] }),
    ).toEqual(['kf_id is number, the real one string', 'list[].b is not in the real payload']);
    expect(shapeDifferences({ a: { b: null } }, { a: {} })).toEqual(['a.b is missing']);
    expect(shapeDifferences([1], {})).toEqual(['the payload is object, the real one array']);
  });

  it('matches each element of a mixed list with the real element it resembles', () => {
    const real = { servicer_list: [{ userid: 'u', status: 0 }, { department_id: 2 }] };
    expect(
      shapeDifferences(real, { servicer_list: [{ department_id: 3 }, { userid: 'v', status: 1 }] }),
    ).toEqual([]);
    expect(shapeDifferences(real, { servicer_list: [{ userid: 'v', status: '1' }] })).toEqual([
      'servicer_list[].status is string, the real one number',
    ]);
  });

  it('lets documented optional paths be absent on either side, but not of another type', () => {
    const optional = ['list[].stop_type', 'code'];
    expect(
      shapeDifferences({ list: [{ s: 0 }], code: 'c' }, { list: [{ s: 1, stop_type: 1 }] }, optional),
    ).toEqual([]);
    expect(shapeDifferences({ code: 'c' }, { code: 1 }, optional)).toEqual([
      'code is number, the real one string',
    ]);
  });
});
