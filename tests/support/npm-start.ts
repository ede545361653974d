// Runs `npm start` (scripts/start.ts) as a child process with every app on a port reserved for it,
// for tests of the whole system. A reserved port is free only until someone binds it: when another
// process took one before its app listened (the app exits with EADDRINUSE, and npm start stops the
// others), the whole system is started again on a fresh set of ports.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { apps } from '../../scripts/apps.ts';
import { freePort, onFreshPorts, PortTakenError } from '../../scripts/ports.ts';

const root = join(import.meta.dirname, '..', '..');

/** Each app's port, by its variable (`IDP_PORT`, `API_PORT`, …). */
export type AppPorts = Record<string, number>;

export interface StartedApps {
  ports: AppPorts;
  child: ChildProcess;
  /** Everything npm start and the apps printed, stdout and stderr, in order. */
  output(): string;
  /** npm start's exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Ctrl-C (SIGINT), SIGKILL if it is still running 10 s later; resolves once it exited. */
  stop(): Promise<void>;
}

export interface StartAppsOptions {
  /** The environment besides the ports, for one attempt's ports (called again for each attempt). */
  env: (ports: AppPorts) => Record<string, string>;
  /** Hang bound of one attempt, until "All apps are up". */
  boundMs?: number;
  /** Where the ports come from (freePort; a test hands out a taken one). */
  takePort?: () => Promise<number>;
}

export async function startAllApps(options: StartAppsOptions): Promise<StartedApps> {
  const boundMs = options.boundMs ?? 240_000;
  return onFreshPorts(apps.length, async (list) => {
    const ports: AppPorts = Object.fromEntries(apps.map((app, i) => [app.portVar, list[i]!]));
    const portsEnv = Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, String(port)]));
    const child = spawn(process.execPath, [join(root, 'scripts', 'start.ts')], {
      cwd: root,
      env: { ...process.env, ...options.env(ports), ...portsEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (b: Buffer) => { output += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { output += b.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // After 'exit', once its stdout and stderr are read to their end.
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
    };

    const deadline = Date.now() + boundMs;
    while (!output.includes('All apps are up')) {
      if (child.exitCode !== null || child.signalCode !== null) {
        // Its pipes may still hold the apps' last lines (the EADDRINUSE among them).
        await closed;
        const why = `npm start exited (${child.exitCode ?? child.signalCode}) before every app was up, on ports ${JSON.stringify(ports)}; its last output:\n${output.slice(-3000)}`;
        throw /EADDRINUSE/.test(output) ? new PortTakenError(`a port was taken by another process: ${why}`) : new Error(why);
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`npm start: not every app was up within ${boundMs / 1000} s; its last output:\n${output.slice(-3000)}`);
      }
      await sleep(200);
    }
    return { ports, child, output: () => output, exited, stop };
  }, 4, options.takePort ?? freePort);
}
