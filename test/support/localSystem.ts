import { freePort } from '../../local/stack';
import { type LocalSystem, startLocalSystem } from '../../local/system';
import { testEnv } from './wechat';

/**
 * What `npm start` runs, on free ports, with the test app's settings in place of the demo app's. Test files run
 * side by side, and a port found free can be taken before it is bound: such a start is tried again on new ports.
 */
export async function startTestSystem(
  options: { demoBot?: boolean; log?: (line: string) => void } = {},
  attempts = 3,
): Promise<LocalSystem> {
  try {
    return await startOnFreePorts(options);
  } catch (error) {
    if (attempts <= 1 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return startTestSystem(options, attempts - 1);
  }
}

async function startOnFreePorts(options: {
  demoBot?: boolean;
  log?: (line: string) => void;
}): Promise<LocalSystem> {
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
