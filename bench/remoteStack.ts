import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../local/serviceDefinition';

/** The messages API's key in the bench's settings. */
export const BENCH_API_KEY = 'bench-outbound-api-key-0123';

/** Customers writing text messages to kf accounts created for them. */
export interface PacedWrites {
  /** Names this batch's kf accounts and customers apart from another batch's. */
  readonly tag: string;
  readonly messages: number;
  readonly accounts: number;
  readonly customersPerAccount: number;
  readonly seed: number;
  /** `perTick` messages every `tickMs`: a platform pushing as customers write, not a storm. */
  readonly perTick: number;
  readonly tickMs: number;
  readonly waitFor?: (id: string) => Promise<void>;
}

/** A customer message the simulator took: its id, who wrote it, and when (epoch ms). */
export interface Written {
  readonly id: string;
  readonly openKfId: string;
  readonly customer: string;
  readonly at: number;
}

export interface StackReady {
  /** The functions' settings, pointing at the stack and the simulator. */
  readonly env: Record<string, string>;
  readonly queues: Record<string, string>;
  readonly region: string;
  readonly simUrl: string;
}

export type ParentMessage =
  | { id: number; op: string; args: unknown[] }
  | { invoked: number; result?: unknown; error?: string };

type ChildMessage =
  | { ready: StackReady }
  | { id: number; result?: unknown; error?: string }
  | { invoke: number; functionName: string; event: unknown };

export type InvokeHandler = (functionName: string, event: unknown) => Promise<unknown>;

export interface RemoteStack extends StackReady {
  call<T>(op: string, ...args: unknown[]): Promise<T>;
  /** What the stack's pollers call with each batch. */
  onInvoke(handler: InvokeHandler): void;
  stop(): Promise<void>;
}

/**
 * Starts ./stackProcess.ts in a child process: the local stack, the simulator, the callback and the
 * event-source pollers run there, so the CPU this process spends is the functions' own.
 */
export async function startRemoteStack(): Promise<RemoteStack> {
  const child: ChildProcess = fork(join(ROOT, 'bench/stackProcess.ts'), [], {
    execArgv: ['--import', 'tsx'],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let invokeHandler: InvokeHandler | undefined;
  const ready = new Promise<StackReady>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the bench's stack process exited (${code})`)));
    child.on('message', (message: ChildMessage) => {
      if ('ready' in message) return resolve(message.ready);
      if ('invoke' in message) {
        const reply = (answer: Omit<Extract<ParentMessage, { invoked: number }>, 'invoked'>) =>
          child.send({ invoked: message.invoke, ...answer });
        if (!invokeHandler) return reply({ error: 'nothing handles invocations' });
        invokeHandler(message.functionName, message.event).then(
          (result) => reply({ result }),
          (error: Error) => reply({ error: error.message }),
        );
        return;
      }
      const call = pending.get(message.id);
      pending.delete(message.id);
      if (message.error === undefined) call?.resolve(message.result);
      else call?.reject(new Error(message.error));
    });
  });
  const started = await ready;
  const call = <T>(op: string, ...args: unknown[]) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, op, args } satisfies ParentMessage);
    });
  return {
    ...started,
    call,
    onInvoke(handler) {
      invokeHandler = handler;
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await call('stop').catch(() => {});
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
