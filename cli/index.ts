import { readFile } from 'node:fs/promises';
import { localEndpoints } from '../local/endpoints';
import { readServiceDefinition } from '../local/serviceDefinition';
import { runCli } from './main';

/** `npx kf-bridge …`: the CLI with the real terminal, network and files. */
process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  fetch,
  readFile: (path) => readFile(path),
  localAdminKey: async () => (await readServiceDefinition()).localParams.ADMIN_API_KEY ?? '',
  localApiUrl: async () => (await localEndpoints(process.env)).apiUrl,
});
