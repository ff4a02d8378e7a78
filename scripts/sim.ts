import { portsFrom } from '../local/endpoints';
import { startSimulator } from '../simulator';
import { answerHelp } from './usage';

answerHelp(`
usage: npm run sim

The WeCom + Official Account simulator alone, on http://127.0.0.1:$SIM_PORT (default 4001): its web view at /,
its control API under /_sim. Point a client at it with WECOM_API_BASE / MP_API_BASE. Ctrl+C stops it.
`);

/** `npm run sim`: the WeCom + Official Account simulator alone (SIM_PORT, default 4001). */
const running = await (async () => startSimulator({ port: portsFrom(process.env).sim }))().catch(
  (error: Error) => {
    console.error(`simulator could not start: ${error.message}`);
    process.exit(1);
  },
);
console.log(
  `WeCom + MP simulator on ${running.url}  (web view: ${running.url}/ , control API: ${running.url}/_sim/state)`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    await running.stop();
    process.exit(0);
  });
}
