import { portIsFree } from '../local/stack';
import { startLocalSystem } from '../local/system';

/** `npm start`: the whole system on this machine, no AWS account and no network needed. */
const log = (line: string) => console.log(line);

const PORTS = {
  httpPort: ['HTTP_PORT', 3000],
  lambdaPort: ['LAMBDA_PORT', 3002],
  dynamodbPort: ['DYNAMODB_PORT', 8000],
  fauxqsPort: ['FAUXQS_PORT', 4566],
  simPort: ['SIM_PORT', 4001],
} as const;
const ports = Object.fromEntries(
  Object.entries(PORTS).map(([name, [variable, fallback]]) => [
    name,
    Number(process.env[variable] ?? fallback),
  ]),
) as Record<keyof typeof PORTS, number>;
for (const [name, [variable]] of Object.entries(PORTS) as [keyof typeof PORTS, readonly [string, number]][]) {
  if (!(await portIsFree(ports[name]))) {
    console.error(
      `kf-bridge could not start: port ${ports[name]} is in use; free it or set ${variable} to another port`,
    );
    process.exit(1);
  }
}

const demoBot = process.env.DEMO_BOT !== 'false';
const system = await startLocalSystem({ ...ports, env: process.env, log, demoBot }).catch((error: Error) => {
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
log(`  simulator      ${system.simulator.url}/   (WeCom + MP; web view and control API)`);
log(`  demo kf        ${system.demo.openKfId}   (write as a customer in the web view)`);
log(`  DynamoDB Local ${stack.endpoints.dynamodb}`);
log(`  SQS + S3       ${stack.endpoints.sqs}   (fauxqs)`);
for (const [logicalId, url] of Object.entries(stack.queues))
  log(`  queue          ${logicalId.padEnd(14)} ${url}`);
for (const mapping of system.mappings) log(`  consumer       ${mapping.functionName} <- ${mapping.queueUrl}`);
for (const schedule of system.schedules)
  log(`  schedule       ${schedule.functionName} every ${schedule.expression}`);
if (demoBot) log('  demo bot       answers customers from inbound.fifo (DEMO_BOT=false turns it off)');
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
