// `npm start`: starts every app that exists, waits until each answers its health check, prints
// the URLs and demo users, and stops everything on Ctrl-C (or when any app exits).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { untilServing } from './ports.ts';
import { readArgumentsOrExit } from '@suite/config';
import { apps, appPort, type AppEntry } from './apps.ts';

readArgumentsOrExit({ name: 'start', synopsis: 'npm start', summary: 'Starts every app; takes no arguments: the apps are configured by environment variables (README.md, "Configuration").', options: {} });

const root = join(import.meta.dirname, '..');
const present = apps.filter((a) => existsSync(join(root, 'apps', a.name, a.entry)));
const children = new Map<string, ChildProcess>();
let stopping = false;

function startApp(app: AppEntry): ChildProcess {
  const child = spawn(process.execPath, [...(app.nodeFlags ?? []), app.entry], {
    cwd: join(root, 'apps', app.name),
    env: process.env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    children.delete(app.name);
    if (!stopping) {
      console.error(`[start] ${app.name} exited (${signal ?? code}); stopping the others`);
      void stopAll(1);
    }
  });
  return child;
}

/**
 * Waits until the app answers its health check from its own process: another program already
 * listening on the port (the app then exits, unable to listen) may answer the same path.
 */
async function waitHealthy(app: AppEntry, child: ChildProcess, timeoutMs = 180_000): Promise<void> {
  const url = `http://127.0.0.1:${appPort(app)}${app.healthPath}`;
  const outcome = await untilServing(url, child, Date.now() + timeoutMs, { intervalMs: 200, giveUp: () => stopping });
  // An app that exited stops the others on its own ('exit' above).
  if (outcome === 'timed out') throw new Error(`${app.name} did not become healthy at ${url} within ${timeoutMs / 1000}s`);
}

async function stopAll(code: number): Promise<never> {
  stopping = true;
  const exits = [...children.values()].map(
    (child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }),
  );
  await Promise.all(exits);
  process.exit(code);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

for (const app of present) children.set(app.name, startApp(app));
try {
  await Promise.all(present.map((a) => waitHealthy(a, children.get(a.name)!)));
} catch (err) {
  console.error(`[start] ${(err as Error).message}`);
  await stopAll(1);
}
if (!stopping) {
  const lines = present.map((a) => `  ${a.title.padEnd(22)} http://localhost:${appPort(a)}`);
  console.log([
    '',
    'All apps are up:',
    ...lines,
    '',
    'Demo users (development profile):',
    '  alice / demo-alice   may use the API',
    '  bob   / demo-bob     signs in, but the API answers him 403',
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n'));
}
