// serverless.yml's custom.localPorts: the local system's ports by local/endpoints.ts's own rule, so
// `serverless invoke local` and serverless offline find what `npm start` runs and never trust a record it does not.
import { stagePorts } from '../local/endpoints.ts';

let resolved;

/** Resolved once per run: serverless.yml reads each port separately, and a bad record is reported once. */
export function localPorts({ resolveVariable }) {
  resolved ??= resolveVariable('sls:stage').then((stage) => stagePorts(stage, process.env));
  return resolved;
}
