import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { privateBuildFolder } from '../../local/buildFolder';
import { ROOT } from '../../local/serviceDefinition';
import { eventFileText, events } from '../../scripts/make-events';

const run = promisify(execFile);

describe('serverless invoke local', () => {
  it('answers the sample WeCom verification without AWS credentials or a running stack', async () => {
    const build = await privateBuildFolder('invoke');
    const env = {
      ...Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !/^(AWS_|KF_BRIDGE_|WECOM_|MP_)/.test(name)),
      ),
      ...build.env,
    };
    const { stdout } = await run(
      process.execPath,
      [
        join(ROOT, 'node_modules/serverless/bin/serverless.js'),
        'invoke',
        'local',
        '-f',
        'callback',
        '--path',
        'events/callback-wecom-verify.json',
        // A recorded event is older than the allowed clock skew.
        '-e',
        'CALLBACK_MAX_CLOCK_SKEW_SECONDS=0',
      ],
      { cwd: ROOT, env },
    ).finally(() => build.remove());
    const result = JSON.parse(stdout.slice(stdout.indexOf('{')));
    expect(result).toMatchObject({ statusCode: 200, body: '4751219183615370571' });
  }, 60_000);

  it('ships sample events signed with the demo settings serverless.yml declares today', async () => {
    for (const [file, event] of Object.entries(events)) {
      expect(await readFile(join(ROOT, 'events', file), 'utf8'), `events/${file}: run npm run events`).toBe(
        eventFileText(event),
      );
    }
  });
});
