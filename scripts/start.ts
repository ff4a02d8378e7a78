import {
  endpointsOf,
  LOCAL_PORTS,
  LOCAL_RECORD_FILE,
  type LocalPorts,
  type PortName,
  portsFrom,
  removeLocalRecord,
  writeLocalRecord,
} from '../local/endpoints';
import { portIsFree } from '../local/stack';
import { startLocalSystem } from '../local/system';

/** `npm start`: the whole system on this machine, no AWS account and no network needed. */
const log = (line: string) => console.log(line);

let ports: LocalPorts;
try {
  ports = portsFrom(process.env);
} catch (error) {
  console.error(`kf-bridge could not start: ${(error as Error).message}`);
  process.exit(1);
}
for (const [name, { variable }] of Object.entries(LOCAL_PORTS)) {
  const port = ports[name as PortName];
  if (!(await portIsFree(port))) {
    console.error(
      `kf-bridge could not start: port ${port} is in use; free it or set ${variable} to another port`,
    );
    process.exit(1);
  }
}

const demoBot = process.env.DEMO_BOT !== 'false';
const system = await startLocalSystem({
  httpPort: ports.http,
  lambdaPort: ports.lambda,
  dynamodbPort: ports.dynamodb,
  fauxqsPort: ports.fauxqs,
  simPort: ports.sim,
  env: process.env,
  log,
  demoBot,
}).catch((error: Error) => {
  console.error(`kf-bridge could not start: ${error.message}`);
  process.exit(1);
});

const { stack } = system;
// What runs where, for invoke local, export and the CLI's --local (local/endpoints.ts).
await writeLocalRecord({
  ...endpointsOf(ports),
  pid: process.pid,
  region: stack.region,
  queues: stack.queues,
});
log('');
log('kf-bridge local system');
log(
  `  callback       ${system.httpUrl}/callback/{app}   (GET verify, POST events; app "default" = demo app)`,
);
log(`  Lambda API     http://127.0.0.1:${ports.lambda}   (serverless offline)`);
log(`  simulator      ${system.simulator.url}/   (WeCom + MP; web view and control API)`);
log(`  demo kf        ${system.demo.openKfId}   (write as a customer in the web view)`);
log(`  DynamoDB Local ${stack.endpoints.dynamodb}`);
log(`  SQS + S3       ${stack.endpoints.sqs}   (fauxqs)`);
for (const [logicalId, url] of Object.entries(stack.queues))
  log(`  queue          ${logicalId.padEnd(14)} ${url}`);
for (const mapping of system.mappings) log(`  consumer       ${mapping.functionName} <- ${mapping.queueUrl}`);
for (const schedule of system.schedules)
  log(`  schedule       ${schedule.functionName} every ${schedule.expression}`);
log(`  endpoints      ${LOCAL_RECORD_FILE}   (for invoke local, export and --local)`);
if (demoBot) log('  demo bot       answers customers from inbound.fifo (DEMO_BOT=false turns it off)');
log('kf-bridge is ready. Press Ctrl+C to stop.');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    log('stopping…');
    await removeLocalRecord();
    await system.stop();
    process.exit(0);
  });
}
