import { spawnSync } from 'node:child_process';
import { needs } from './needs';

export const PYTHON_TOOLS_INSTALL = "pip install cfn-lint 'moto[server]'";

const runs = (command: string) => spawnSync(command, ['--help'], { stdio: 'ignore' }).status === 0;
const absent = ['cfn-lint', 'moto_server'].filter((command) => !runs(command));

/** `describe` for tests checked by cfn-lint or moto: skipped with the reason where they are missing, outside CI. */
export const { describe: describeWithPythonTools } = needs(
  'tests against cfn-lint and moto need them',
  absent.length > 0
    ? `${absent.join(' and ')} not on PATH; install with: ${PYTHON_TOOLS_INSTALL}`
    : undefined,
);
