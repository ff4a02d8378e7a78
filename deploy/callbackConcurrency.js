// The callback's reserved concurrency (--param callbackReservedConcurrency=N), checked when the stage is
// packaged. Empty leaves the callback in the account's shared pool. 0 would refuse every push, through the
// HTTP API and the function URL alike, so it is refused here. The upper bound is the account's: AWS keeps
// 100 of its concurrency unreserved and refuses more only when the stack deploys.

/** The callback function's extension: its ReservedConcurrentExecutions when asked for, else nothing. */
export async function callbackExtension({ resolveVariable }) {
  const asked = String((await resolveVariable('param:callbackReservedConcurrency')) ?? '').trim();
  if (asked === '') return {};
  if (!/^[1-9]\d{0,5}$/.test(asked))
    throw new Error(
      `callbackReservedConcurrency must be a whole number of executions from 1, or empty, not '${asked}'`,
    );
  return { Properties: { ReservedConcurrentExecutions: Number(asked) } };
}
