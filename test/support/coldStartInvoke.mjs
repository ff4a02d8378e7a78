// A Lambda cold start in one fresh process, for test/integration/coldStart.test.ts: imports a built handler
// bundle, invokes it once as the Lambda runtime would, and reports when each phase ended. Plain JavaScript, so
// Node starts it without stripping types: its own cost stays out of the figures.
//
// argv: the bundle's path, the event as JSON, the function's timeout in ms.
// stdout: Powertools' log lines, then one line `COLD_START <json>`.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const now = () => performance.timeOrigin + performance.now();
const scriptAt = now();
const [bundle = '', eventJson = '', timeoutMs = ''] = process.argv.slice(2);

const { handler } = await import(pathToFileURL(bundle).href);
const importedAt = now();

const deadline = Date.now() + Number(timeoutMs);
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'callback';
const context = {
  functionName,
  functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${functionName}`,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '512',
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: 'cold-start',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => deadline - Date.now(),
};
const response = await handler(JSON.parse(eventJson), context);
const answeredAt = now();

const { user, system } = process.cpuUsage();
const result = {
  startedAt: performance.timeOrigin,
  scriptAt,
  importedAt,
  answeredAt,
  cpuMs: (user + system) / 1000,
  response,
};
// Exits once the line is out: a Lambda container would be frozen here, with its sockets kept.
process.stdout.write(`COLD_START ${JSON.stringify(result)}\n`, () => process.exit(0));
