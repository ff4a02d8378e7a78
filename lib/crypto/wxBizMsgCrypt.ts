import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BadRequestError, ConfigError, UnauthorizedError } from '../errors';

/**
 * WeCom / WeChat callback crypto (WXBizMsgCrypt): SHA-1 signatures over sorted strings and
 * AES-256-CBC with a 32-byte PKCS#7 block. The payload is
 * random(16) ‖ uint32be(len) ‖ message ‖ receiveId, where receiveId is the corp id (WeCom) or app id (MP).
 */

const BLOCK = 32;
const RANDOM_PREFIX = 16;
const LENGTH_FIELD = 4;

export interface CallbackCipher {
  readonly token: string;
  readonly receiveId: string;
  readonly aesKey: Buffer;
}

/** The 43-character EncodingAESKey decodes (with one `=` of padding) to the 32-byte AES key. */
export function decodeEncodingAesKey(encodingAesKey: string, settingName = 'EncodingAESKey'): Buffer {
  if (!/^[A-Za-z0-9+/]{43}$/.test(encodingAesKey)) {
    throw new ConfigError(`${settingName} must be 43 characters of base64`);
  }
  return Buffer.from(`${encodingAesKey}=`, 'base64');
}

/** sha1 of the parts sorted byte-wise and concatenated; lowercase hex. */
export function signature(...parts: string[]): string {
  const sorted = [...parts].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return createHash('sha1').update(sorted.join('')).digest('hex');
}

/** Constant-time comparison of a received signature with the expected one. */
export function signaturesMatch(expected: string, received: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(received.toLowerCase());
  return a.length === b.length && timingSafeEqual(a, b);
}

export function assertSignature(expected: string, received: string | undefined, what: string): void {
  if (received === undefined || !signaturesMatch(expected, received)) {
    throw new UnauthorizedError(`${what} does not match`);
  }
}

export function encrypt(
  cipher: CallbackCipher,
  message: string,
  random: Buffer = randomBytes(RANDOM_PREFIX),
): string {
  if (random.length !== RANDOM_PREFIX) throw new RangeError('random prefix must be 16 bytes');
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(LENGTH_FIELD);
  length.writeUInt32BE(body.length);
  const plain = Buffer.concat([random, length, body, Buffer.from(cipher.receiveId, 'utf8')]);
  // WeCom pads to 32-byte blocks and adds a whole block when already aligned, so OpenSSL's 16-byte padding is off.
  const pad = BLOCK - (plain.length % BLOCK);
  const aes = createCipheriv('aes-256-cbc', cipher.aesKey, cipher.aesKey.subarray(0, 16)).setAutoPadding(
    false,
  );
  return Buffer.concat([aes.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), aes.final()]).toString(
    'base64',
  );
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decrypts and checks the receive id; every malformed input is a BadRequestError naming the fault. */
export function decrypt(cipher: CallbackCipher, encrypted: string): string {
  if (!BASE64.test(encrypted) || encrypted.length % 4 !== 0)
    throw new BadRequestError('encrypted payload is not valid base64');
  const data = Buffer.from(encrypted, 'base64');
  if (data.length === 0 || data.length % 16 !== 0) {
    throw new BadRequestError('encrypted payload is not a whole number of AES blocks');
  }
  const aes = createDecipheriv('aes-256-cbc', cipher.aesKey, cipher.aesKey.subarray(0, 16)).setAutoPadding(
    false,
  );
  const plain = Buffer.concat([aes.update(data), aes.final()]);
  const pad = plain[plain.length - 1] ?? 0;
  if (
    pad < 1 ||
    pad > BLOCK ||
    pad > plain.length ||
    !plain.subarray(plain.length - pad).every((b) => b === pad)
  ) {
    throw new BadRequestError('encrypted payload has invalid padding');
  }
  const content = plain.subarray(0, plain.length - pad);
  if (content.length < RANDOM_PREFIX + LENGTH_FIELD)
    throw new BadRequestError('decrypted payload is too short');
  const length = content.readUInt32BE(RANDOM_PREFIX);
  const end = RANDOM_PREFIX + LENGTH_FIELD + length;
  if (end > content.length) throw new BadRequestError('decrypted length field runs past the payload');
  const receiveId = content.subarray(end).toString('utf8');
  if (receiveId !== cipher.receiveId) throw new BadRequestError('receive id does not match this app');
  return content.subarray(RANDOM_PREFIX + LENGTH_FIELD, end).toString('utf8');
}
