// The callback's reserved concurrency (--param callbackReservedConcurrency=N), checked when the stage is
// packaged: empty leaves the callback in the account's shared pool, and a template never carries a value
// CloudFormation would refuse only at deploy time.

/** The callback function's extension: its ReservedConcurrentExecutions when asked for, else nothing. */
export async function callbackExtension({ resolveVariable }) {
  const asked = String((await resolveVariable('param:callbackReservedConcurrency')) ?? '').trim();
  if (asked === '') return {};
  if (!/^\d{1,6}$/.test(asked))
    throw new Error(
      `callbackReservedConcurrency must be a whole number of executions or empty, not '${asked}'`,
    );
  return { Properties: { ReservedConcurrentExecutions: Number(asked) } };
}
