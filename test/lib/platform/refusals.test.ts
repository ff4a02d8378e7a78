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

  it('gives the 95xxx codes the meanings WeCom publishes, one meaning each', () => {
    const sentence = (errcode: number) => describeRefusal('wecom', errcode).sentence;
    expect(sentence(95006)).toContain('kf account name');
    expect(sentence(95007)).toContain('expired');
    expect(sentence(95008)).toContain('more items');
    expect(sentence(95009)).toContain('menu item has a type');
    expect(sentence(95014)).toContain('not a servicer');
    expect(sentence(95015)).toContain('dedicated service');
    expect(sentence(95017)).toContain('API switch is off');
    expect(sentence(95018)).toContain('over 48 hours');
    expect(describeRefusal('wecom', 95019)).toEqual({
      sentence: 'the servicer has stopped receiving customers or is paused',
      status: 409,
    });
    expect(describeRefusal('wecom', 48007)).toMatchObject({ status: 403 });
    expect(sentence(48007)).toContain('not handed to this app');
  });

  it('points to where an unknown code is explained', () => {
    expect(describeRefusal('wecom', 123456)).toEqual({
      sentence: 'WeCom gave no reason we know; see https://open.work.weixin.qq.com/devtool/query?e=123456',
      status: 422,
    });
  });
});
