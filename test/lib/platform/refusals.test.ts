import { describe, expect, it } from 'vitest';
import { describeRefusal } from '../../../lib/platform/refusals';

describe('describeRefusal', () => {
  it('says what an errcode means on each platform, with the status the API answers', () => {
    expect(describeRefusal('wecom', 95004)).toEqual({
      sentence: 'no such kf account (open_kfid) in this corp',
      status: 404,
    });
    expect(describeRefusal('mp', 65401).status).toBe(404);
    expect(describeRefusal('mp', 40003).sentence).toContain('openid');
    expect(describeRefusal('wecom', 40003).sentence).toContain('userid');
    expect(describeRefusal('wecom', 45009).status).toBe(429);
  });

  it('points to where an unknown code is explained', () => {
    expect(describeRefusal('wecom', 123456)).toEqual({
      sentence: 'WeCom gave no reason we know; see https://open.work.weixin.qq.com/devtool/query?e=123456',
      status: 422,
    });
  });
});
