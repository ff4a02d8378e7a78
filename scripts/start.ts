import { portIsFree } from '../local/stack';
import { startLocalSystem } from '../local/system';

/** `npm start`: the whole system on this machine, no AWS account and no network needed. */
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const log = (line: string) => console.log(line);

const ports = {
  httpPort: port('HTTP_PORT', 3000),
  lambdaPort: port('LAMBDA_PORT', 3002),
  dynamodbPort: port('DYNAMODB_PORT', 8000),
  fauxqsPort: port('FAUXQS_PORT', 4566),
};
const variables = {
  httpPort: 'HTTP_PORT',
  lambdaPort: 'LAMBDA_PORT',
  dynamodbPort: 'DYNAMODB_PORT',
  fauxqsPort: 'FAUXQS_PORT',
};
for (const [name, value] of Object.entries(ports) as [keyof typeof ports, number][]) {
  if (!(await portIsFree(value))) {
    console.error(
      `kf-bridge could not start: port ${value} is in use; free it or set ${variables[name]} to another port`,
    );
    process.exit(1);
  }
}

const system = await startLocalSystem({ ...ports, env: process.env, log }).catch((error: Error) => {
  console.error(`kf-bridge could not start: ${error.message}`);
  process.exit(1);
});

const { stack } = system;
log('');
log('kf-bridge local system');
log(
  `  callback       ${system.httpUrl}/callback/{app}   (GET verify, POST events; app "default" = demo app)`,
);
log(`  Lambda API     http://127.0.0.1:${ports.lambdaPort}   (serverless offline)`);
log(`  DynamoDB Local ${stack.endpoints.dynamodb}`);
log(`  SQS + S3       ${stack.endpoints.sqs}   (fauxqs)`);
for (const [logicalId, url] of Object.entries(stack.queues))
  log(`  queue          ${logicalId.padEnd(14)} ${url}`);
for (const mapping of system.mappings) log(`  consumer       ${mapping.functionName} <- ${mapping.queueUrl}`);
log('kf-bridge is ready. Press Ctrl+C to stop.');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    log('stopping…');
    await system.stop();
    process.exit(0);
  });
}
