import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { freePort } from '../../local/stack';

export interface MotoServer {
  readonly endpoint: string;
  /** Client options for the AWS SDK against this server. */
  readonly clientConfig: {
    region: string;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  stop(): Promise<void>;
}

/**
 * moto's server: an AWS implementation of its own (CloudFormation, SSM and the services they create), on a
 * free loopback port. It is a Python package (`moto[server]`), installed by .ci/run's checks.
 */
export async function startMotoServer(region = 'ap-southeast-1'): Promise<MotoServer> {
  if (spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status !== 0)
    throw new Error("moto_server is not on PATH: install the Python package 'moto[server]'");
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'pipe',
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}): ${output.trim()}`);
    try {
      await fetch(`${endpoint}/moto-api/`);
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`moto_server did not start on port ${port}: ${output.trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    endpoint,
    clientConfig: { region, endpoint, credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' } },
    stop,
  };
}
