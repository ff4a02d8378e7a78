import { Logger } from '@aws-lambda-powertools/logger';

/** The slice of the structured logger that `lib/` depends on; tests pass a recording fake. */
export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** JSON logs, one line each; POWERTOOLS_LOG_LEVEL (default INFO) sets the threshold. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}
