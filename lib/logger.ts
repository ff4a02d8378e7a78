import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';

/** The slice of the structured logger that `lib/` depends on; tests pass a recording fake. */
export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** JSON logs, one line each; POWERTOOLS_LOG_LEVEL (default INFO) sets the threshold. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

/**
 * A log whose every line carries an SQS record's message id and group. Message groups run side by side, so the
 * keys go with each line rather than onto the shared logger. Not Powertools' `createChild`: its children mark
 * every invocation's lines as a cold start, and it builds a logger per record.
 */
export function recordLog(log: Log, record: SQSRecord): Log {
  const keys = { messageId: record.messageId, group: record.attributes.MessageGroupId ?? record.messageId };
  const keyed = (input: Parameters<Log['info']>[0]) =>
    typeof input === 'string' ? { ...keys, message: input } : { ...keys, ...input };
  return {
    debug: (input, ...extra) => log.debug(keyed(input), ...extra),
    info: (input, ...extra) => log.info(keyed(input), ...extra),
    warn: (input, ...extra) => log.warn(keyed(input), ...extra),
    error: (input, ...extra) => log.error(keyed(input), ...extra),
  };
}
