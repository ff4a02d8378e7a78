import { createSimulatorServer, listen } from './server';
import { Simulator, type SimulatorOptions } from './simulator';

export type { FaultRule } from './faults';
export { Simulator } from './simulator';
export type { TraceSource, TraceStep, TraceSubject, UnsentReply } from './trace';

export interface RunningSimulator {
  readonly sim: Simulator;
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts the simulator's HTTP server (0 picks a free port). */
export async function startSimulator(
  options: SimulatorOptions & { port?: number; host?: string } = {},
): Promise<RunningSimulator> {
  const sim = new Simulator(options);
  const server = createSimulatorServer(sim);
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port ?? 0, host);
  return {
    sim,
    port,
    url: `http://${host}:${port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
