import { parseArgs } from 'node:util';
import { type FaultProfile, runInboundE2e } from '../local/e2e';
import { answerHelp } from './usage';

answerHelp(`
usage: npm run e2e -- [--json] [--faults none|default|harsh|aws] [--seed S] [--messages N]

Customers write through the simulator, the product's own wiring runs on the embedded stack, and a consumer
counts what reached inbound.fifo; then replies of every kf and MP type go through the sender. Prints one JSON
line and exits 0 only with nothing inbound duplicated, lost or out of order, no reply delivered twice or out of
order, and every message SQS will never take accounted for. Defaults: --faults default --seed 1
--messages 1000.
`);

/**
 * `npm run e2e -- --json [--faults none|default|harsh|aws] [--seed S] [--messages N]`: customers write through the
 * simulator, the real pipeline runs on the embedded stack, and a consumer counts what reached inbound.fifo; then
 * replies of every kf and MP type go through the sender and the simulator counts what reached customers. Exits 0
 * only with no duplicate, loss or misorder inbound, no reply delivered twice, and every reply delivered except
 * sends whose answer the profile lost, which are uncertain.
 */
const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    faults: { type: 'string', default: 'default' },
    seed: { type: 'string', default: '1' },
    messages: { type: 'string', default: '1000' },
  },
});
const faults = values.faults as FaultProfile;
if (!['none', 'default', 'harsh', 'aws'].includes(faults)) {
  console.error(`--faults must be none, default, harsh or aws (got '${values.faults}')`);
  process.exit(2);
}
const messages = Number(values.messages);
const seed = Number(values.seed);
if (!Number.isInteger(messages) || messages < 1 || !Number.isInteger(seed)) {
  console.error('--messages and --seed must be whole numbers (messages at least 1)');
  process.exit(2);
}
const result = await runInboundE2e({
  messages,
  faults,
  seed,
  log: values.json ? () => {} : (line) => console.error(line),
});
console.log(JSON.stringify(result));
const { duplicates, lost, outOfOrder, quarantined, quarantineKept } = result.inbound;
// Every reply stays within its customer's budget, so nothing explains a rejected or failed one. The only
// uncertain outcome the profiles explain is a send whose answer was lost: it is not risked twice, and it may or
// may not have been delivered. Everything else must be delivered exactly once.
const outbound = result.outbound;
const outboundClean =
  outbound.duplicates === 0 &&
  outbound.outOfOrder === 0 &&
  outbound.rejected === 0 &&
  outbound.failed === 0 &&
  outbound.uncertain <= result.injected.unansweredSends &&
  outbound.delivered >= outbound.requested - outbound.uncertain;
// A message SQS will never take arrives as a stand-in, its content kept in S3: every one must be accounted for.
const inboundClean =
  duplicates === 0 &&
  lost === 0 &&
  outOfOrder === 0 &&
  quarantined === result.injected.toQuarantine &&
  quarantineKept === quarantined;
process.exit(inboundClean && outboundClean ? 0 : 1);
