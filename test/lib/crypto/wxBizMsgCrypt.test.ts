import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type CallbackCipher,
  decodeEncodingAesKey,
  decrypt,
  encrypt,
  signature,
  signaturesMatch,
} from '../../../lib/crypto/wxBizMsgCrypt';
import { BadRequestError, ConfigError } from '../../../lib/errors';

const cipherOf = (token: string, encodingAesKey: string, receiveId: string): CallbackCipher => ({
  token,
  receiveId,
  aesKey: decodeEncodingAesKey(encodingAesKey),
});

// Published vectors, quoted in ../shared/reference/wecom-kf-api.md §4.1.
const tencent = cipherOf(
  'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo',
  '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt',
  'ww1436e0e65a779aee',
);
const wechatpy = cipherOf('123456', 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR', 'wx49f0ab532d5d035a');
const wxjava = cipherOf('pamtest', 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', 'wxb11529c136998cb6');
const kfEvent = cipherOf('QDG6eK', 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C', 'wx5823bf96d3bd56c7');

const KF_EVENT_ENCRYPT =
  'sKqRbbiSUnDhFHOvPjtUMUx6o8/E2uRRniEu+jjdYMX7PCvfKzXTKLkR6gm8E3S2SZ+vpjj383+VncwV0OUtWxk/bZxsNBIDx+jnuqweqLuDM2k0sQYBlDPvHfkOy9T9cNS9I/8tfr2HBKrOrMEOejlzAtQjUWk0hl0s3jFtQFpeYIp5fBgtvou5BEXFjdlCTZt9FDyzdF+lohOZsdIP8T/2uZ6GhxsMEY4Eri5R+egWpXIHYd5nm6lHMAQRplgqb2HVh23AP1qtJvcifW3iKvq4gaK8QBav8cmmCxUTKcU1nC+7O1Z+J795nfJaZhLbKHp/874+qtphCcZZftVWRo6frEGwLm3gBSLiuKtWd7xv22RPmA3VwANHyikh2iYWtJiKAh445F9lLuM87kkmWotsNN3z/pE/M7ahSl5+5L4qRuIsCwGuUFg5Uwm31sCHKw4naUvzMSmBhmcGXpww8A==';
const KF_EVENT_PLAIN =
  '<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event><Token><![CDATA[ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR]]></Token><OpenKfId><![CDATA[wkxxxxxxx]]></OpenKfId></xml>';

describe('signature', () => {
  it('matches the Tencent URL-verification vector', () => {
    const echostr =
      'fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==';
    expect(signature(tencent.token, '1476416373', '47744683', echostr)).toBe(
      '012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb',
    );
    expect(decrypt(tencent, echostr)).toBe('1288432023552776189');
  });

  it('matches the wechatpy vector and fails with a different nonce', () => {
    const echostr =
      '4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==';
    const expected = 'dd6b9c95b495b3f7e2901bfbc76c664930ffdb96';
    expect(signature(wechatpy.token, '1411443780', '437374425', echostr)).toBe(expected);
    expect(signature(wechatpy.token, '1411443780', '437374424', echostr)).not.toBe(expected);
    expect(decrypt(wechatpy, echostr)).toBe('5927782489442352469');
  });

  it('matches the derived kf event vector', () => {
    expect(signature(kfEvent.token, '1700000000', '123456789', KF_EVENT_ENCRYPT)).toBe(
      '52668329fdbfe7231f633f5fcd0c0f4c0b29780e',
    );
  });

  it('compares case-insensitively in constant time, and rejects other lengths', () => {
    expect(signaturesMatch('abc123', 'ABC123')).toBe(true);
    expect(signaturesMatch('abc123', 'abc12')).toBe(false);
    expect(signaturesMatch('abc123', 'abc124')).toBe(false);
  });
});

describe('decrypt', () => {
  it('decrypts the Tencent message vector', () => {
    const encrypted =
      'Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+';
    expect(signature(tencent.token, '1476422779', '1597212914', encrypted)).toBe(
      '0c3914025cb4b4d68103f6bfc8db550f79dcf48e',
    );
    expect(decrypt(tencent, encrypted)).toBe(
      '<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName><CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>',
    );
  });

  it('decrypts the kf event vector', () => {
    expect(decrypt(kfEvent, KF_EVENT_ENCRYPT)).toBe(KF_EVENT_PLAIN);
  });

  it('refuses a receive id of another corp', () => {
    expect(() => decrypt({ ...kfEvent, receiveId: 'wwsomeoneelse' }, KF_EVENT_ENCRYPT)).toThrow(
      new BadRequestError('receive id does not match this app'),
    );
  });

  it.each([
    ['not base64', 'not base64!', 'encrypted payload is not valid base64'],
    ['truncated base64', KF_EVENT_ENCRYPT.slice(0, 10), 'encrypted payload is not valid base64'],
    [
      'a partial AES block',
      Buffer.alloc(20).toString('base64'),
      'encrypted payload is not a whole number of AES blocks',
    ],
    ['empty', '', 'encrypted payload is not a whole number of AES blocks'],
  ])('refuses %s', (_, encrypted, message) => {
    expect(() => decrypt(kfEvent, encrypted)).toThrow(new BadRequestError(message));
  });

  it('refuses bad padding, a short payload and a length field past the buffer', () => {
    const raw = (plain: Buffer) => {
      const aes = createCipheriv(
        'aes-256-cbc',
        kfEvent.aesKey,
        kfEvent.aesKey.subarray(0, 16),
      ).setAutoPadding(false);
      return Buffer.concat([aes.update(plain), aes.final()]).toString('base64');
    };
    const badPad = Buffer.alloc(64, 0);
    expect(() => decrypt(kfEvent, raw(badPad))).toThrow('invalid padding');
    const inconsistentPad = Buffer.concat([Buffer.alloc(62, 1), Buffer.from([3, 2])]);
    expect(() => decrypt(kfEvent, raw(inconsistentPad))).toThrow('invalid padding');
    const short = Buffer.concat([Buffer.alloc(8, 1), Buffer.alloc(24, 24)]);
    expect(() => decrypt(kfEvent, raw(short))).toThrow('decrypted payload is too short');
    const overlong = Buffer.concat([Buffer.alloc(16, 7), Buffer.from([0, 0, 1, 0]), Buffer.alloc(12, 12)]);
    expect(() => decrypt(kfEvent, raw(overlong))).toThrow('decrypted length field runs past the payload');
  });
});

describe('encrypt', () => {
  it('reproduces the wechatpy encrypt vector byte for byte', () => {
    const reply =
      '<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>';
    const encrypted = encrypt(wechatpy, reply, Buffer.from('1234567890123456'));
    expect(encrypted).toBe(
      '9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3',
    );
    expect(signature(wechatpy.token, '1411525903', '461056294', encrypted)).toBe(
      '407518b7649e86ef23978113f92d27afa9296533',
    );
  });

  it('reproduces the WxJava vector (MP receive id, Chinese text)', () => {
    expect(encrypt(wxjava, '我是中文abcd123', Buffer.from('aaaabbbbccccdddd'))).toBe(
      'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==',
    );
  });

  it('reproduces the kf event vector', () => {
    expect(encrypt(kfEvent, KF_EVENT_PLAIN, Buffer.from('0123456789abcdef'))).toBe(KF_EVENT_ENCRYPT);
  });

  it('adds a whole 32-byte block of padding when the payload is already aligned', () => {
    // 16 random + 4 length + 26 message + 18 corp id = 64 bytes: a multiple of 32.
    const message = 'abcdefghijklmnopqrstuvwxyz';
    const encrypted = encrypt(kfEvent, message, Buffer.alloc(16, 1));
    expect(Buffer.from(encrypted, 'base64')).toHaveLength(96);
    expect(decrypt(kfEvent, encrypted)).toBe(message);
  });

  it('round-trips multibyte text of every length around a block boundary', () => {
    for (let length = 0; length < 70; length++) {
      const message = '你'.repeat(length % 7) + 'x'.repeat(length);
      expect(decrypt(kfEvent, encrypt(kfEvent, message))).toBe(message);
    }
  });
});

describe('decodeEncodingAesKey', () => {
  it('refuses a key that is not 43 characters of base64, naming the setting', () => {
    expect(() => decodeEncodingAesKey('short', 'WECOM_ENCODING_AES_KEY')).toThrow(
      new ConfigError('WECOM_ENCODING_AES_KEY must be 43 characters of base64'),
    );
  });
});
