/**
 * What one message, and one SendMessageBatch call in total, may carry. AWS raised SQS's ceiling to 1 MiB in
 * 2025, but a queue takes only up to its MaximumMessageSize, which serverless.yml sets to 256 KiB.
 */
export const SQS_MAX_MESSAGE_BYTES = 262_144;

/**
 * The body as sent: every character outside ASCII written as a JSON `\uXXXX` escape, which JSON.parse reads
 * back as the same value. SQS refuses characters outside #x9 | #xA | #xD | #x20–#xD7FF | #xE000–#xFFFD |
 * #x10000–#x10FFFF (U+FFFF, a lone surrogate); an escaped body has none, so its content cannot be refused.
 * JSON.stringify already escapes control characters and lone surrogates; the body's size is its length.
 */
export function sqsBody(json: string): string {
  return json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
