import type { Log } from '../../lib/logger';
import type { FifoMessage, Publish } from '../../lib/queue/publisher';

export function recordingPublisher() {
  const published: { queueUrl: string; message: FifoMessage }[] = [];
  const publish: Publish = async (queueUrl, message) => {
    published.push({ queueUrl, message });
  };
  return { publish, published };
}

/** A logger that keeps every line, so tests can assert what reached the logs at each level. */
export function recordingLog() {
  const lines: { level: string; args: unknown[] }[] = [];
  const record =
    (level: string) =>
    (...args: unknown[]) => {
      lines.push({ level, args });
    };
  const log = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  } as Log;
  const textAboveDebug = () => JSON.stringify(lines.filter((line) => line.level !== 'debug'));
  return { log, lines, textAboveDebug };
}
