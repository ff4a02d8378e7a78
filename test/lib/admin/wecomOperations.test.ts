import { describe, expect, it } from 'vitest';
import { withSceneParam } from '../../../lib/admin/wecomOperations';

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
