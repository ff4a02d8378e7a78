import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { assertSignature, decodeEncodingAesKey, decrypt, signature } from '../lib/crypto/wxBizMsgCrypt';

/**
 * The least a WeCom callback can do, built beside the functions as the bundles' floor: check the push's
 * signature, decrypt it (WXBizMsgCrypt, the product's own lib/crypto) and send one message through the same
 * SQS client. No settings, no parsing, no logging: what the callback's bytes are compared against.
 */
const sqs = new SQSClient({});
const cipher = {
  token: process.env.WECOM_CALLBACK_TOKEN ?? '',
  receiveId: process.env.WECOM_CORP_ID ?? '',
  aesKey: decodeEncodingAesKey(process.env.WECOM_ENCODING_AES_KEY ?? 'A'.repeat(43)),
};

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const query = event.queryStringParameters ?? {};
  const encrypted = /<Encrypt><!\[CDATA\[(.*?)\]\]><\/Encrypt>/.exec(event.body ?? '')?.[1] ?? '';
  const { timestamp = '', nonce = '', msg_signature: received } = query;
  assertSignature(signature(cipher.token, timestamp, nonce, encrypted), received, 'msg_signature');
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: process.env.SYNC_JOBS_QUEUE_URL,
      MessageBody: decrypt(cipher, encrypted),
      MessageGroupId: 'floor',
      MessageDeduplicationId: signature(timestamp, nonce, encrypted),
    }),
  );
  return { statusCode: 200, body: 'success' };
}
