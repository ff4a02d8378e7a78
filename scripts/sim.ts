import { startSimulator } from '../simulator';

/** `npm run sim`: the WeCom + Official Account simulator alone (SIM_PORT, default 4001). */
const running = await startSimulator({ port: Number(process.env.SIM_PORT ?? 4001) }).catch((error: Error) => {
  console.error(`simulator could not start: ${error.message}`);
  process.exit(1);
});
console.log(
  `WeCom + MP simulator on ${running.url}  (web view: ${running.url}/ , control API: ${running.url}/_sim/state)`,
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    await running.stop();
    process.exit(0);
  });
}
