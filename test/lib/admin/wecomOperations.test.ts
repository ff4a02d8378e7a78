import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { WECOM_OPERATIONS, withSceneParam } from '../../../lib/admin/wecomOperations';

describe('withSceneParam', () => {
  it('appends scene_param percent-encoded, after the query WeCom already put there', () => {
    expect(withSceneParam('https://work.weixin.qq.com/kf/kfcX?enc_scene=ENC1', 'a=b&c 双')).toBe(
      'https://work.weixin.qq.com/kf/kfcX?enc_scene=ENC1&scene_param=a%3Db%26c%20%E5%8F%8C',
    );
    expect(withSceneParam('https://work.weixin.qq.com/kf/kfcX', 'p')).toBe(
      'https://work.weixin.qq.com/kf/kfcX?scene_param=p',
    );
    expect(withSceneParam('https://work.weixin.qq.com/kf/kfcX', undefined)).toBe(
      'https://work.weixin.qq.com/kf/kfcX',
    );
  });
});

describe('kf-accounts link', () => {
  const link = WECOM_OPERATIONS.find((op) => op.group === 'kf-accounts' && op.command === 'link');
  const parse = (sceneParam: string) =>
    v.safeParse(link?.input as v.GenericSchema, { openKfId: 'wk1', scene: 's1', sceneParam });

  it('takes a scene_param of up to 128 bytes once URL-encoded, as WeCom counts it', () => {
    expect(parse('a'.repeat(128)).success).toBe(true);
    // A Chinese character is 3 bytes, 9 once encoded (%E5%8F%8C): 14 of them are 126 bytes, 15 are 135.
    expect(parse('双'.repeat(14)).success).toBe(true);
    const refused = parse('双'.repeat(15));
    expect(refused.success).toBe(false);
    expect(refused.issues?.[0]?.message).toBe('at most 128 bytes once URL-encoded');
    expect(parse('a b&'.repeat(20)).success).toBe(false);
    // urlencode encodes !'()* too: 64 of them are 192 bytes, however few encodeURIComponent makes them.
    expect(parse('()'.repeat(32)).success).toBe(false);
    expect(withSceneParam('https://work.weixin.qq.com/kf/kfcX', "a(b)!'*")).toBe(
      'https://work.weixin.qq.com/kf/kfcX?scene_param=a%28b%29%21%27%2A',
    );
  });

  it('refuses text that is not valid Unicode with a 400, not a crash', () => {
    const refused = parse('a\uD800b');
    expect(refused.success).toBe(false);
    expect(refused.issues?.[0]?.message).toBe('not valid Unicode text');
  });
});
