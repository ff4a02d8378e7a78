import { freePort } from '../../local/stack';
import { type LocalSystem, startLocalSystem } from '../../local/system';
import { testEnv } from './wechat';

/** What `npm start` runs, on free ports, with the test app's settings in place of the demo app's. */
export async function startTestSystem(
  options: { demoBot?: boolean; log?: (line: string) => void } = {},
): Promise<LocalSystem> {
  return startLocalSystem({
    httpPort: await freePort(),
    lambdaPort: await freePort(),
    dynamodbPort: await freePort(),
    fauxqsPort: await freePort(),
    simPort: await freePort(),
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...testEnv, POWERTOOLS_LOG_LEVEL: 'WARN' },
    log: options.log ?? (() => {}),
    demoBot: options.demoBot ?? false,
  });
}
