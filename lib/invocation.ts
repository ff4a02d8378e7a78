/** What one function invocation gives the work it runs: the time it has left, and the signal that ends it. */
export interface Invocation {
  readonly remainingMs: () => number;
  readonly signal?: AbortSignal;
}
