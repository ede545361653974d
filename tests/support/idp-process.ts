// Runs the real identity provider as a child process on a free loopback port, with its own data
// directory, for black-box tests over HTTP (and for killing it with SIGKILL).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, onFreshPort, PortTakenError, untilServing } from '../../scripts/ports.ts';

const root = join(import.meta.dirname, '..', '..');
export const IDP_SERVER = join(root, 'apps', 'idp', 'src', 'server.ts');

/** Secrets the production profile takes (random, one per client): for tests that run it past its secret checks. */
export const PRODUCTION_SECRETS = {
  IDP_COOKIE_KEYS: randomBytes(32).toString('base64url'),
  API_CLIENT_SECRET: randomBytes(32).toString('base64url'),
  BFF_CLIENT_SECRET: randomBytes(32).toString('base64url'),
  SERVICE_CLIENT_SECRET: randomBytes(32).toString('base64url'),
};

export interface IdpProcess {
  issuer: string;
  /** Where this process answers (differs from the issuer when several instances share one). */
  base: string;
  port: number;
  dataDir: string;
  /** Every stdout line (JSON log lines) and stderr line, in order. */
  logs: string[];
  env: Record<string, string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops (by default with SIGKILL) and starts again on the same port and data directory. */
  restart(signal?: NodeJS.Signals): Promise<void>;
  /** Stops and removes the data directory. */
  dispose(): Promise<void>;
}

/**
 * Waits until `url` answers 2xx from `child`'s own listening socket (untilServing).
 * Generous: on a loaded two-core machine an IdP takes several seconds to start.
 */
export async function waitForHealthy(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const outcome = await untilServing(url, child, Date.now() + timeoutMs);
  if (outcome === 'exited') throw new Error(`process exited with ${child.exitCode ?? child.signalCode} before becoming healthy`);
  if (outcome !== 'serving') throw new Error(`${url} not healthy after ${timeoutMs} ms`);
}

/** A server script run as a child process that can be stopped and launched again with the same environment. */
export interface RestartableProcess {
  /** Every stdout line (JSON log lines) and stderr line, in order, across launches. */
  logs: string[];
  /** Starts the script and waits until `healthUrl` answers 2xx. */
  launch(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Appends each complete line `stream` carries to `lines`. A read from a pipe returns whatever the
 * pipe holds, which need not end at a line's end (a line longer than the pipe's atomic write size,
 * or a reader that fell behind): the unfinished part waits for the rest instead of being a line.
 */
export function collectLines(stream: Readable, lines: string[]): void {
  let unfinished = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (unfinished + chunk).split('\n');
    unfinished = parts.pop()!;
    lines.push(...parts.filter(Boolean));
  });
  stream.on('end', () => {
    if (unfinished) lines.push(unfinished);
    unfinished = '';
  });
}

/**
 * Waits until one of `lines` (a child process's log, filled by collectLines) matches, and returns it.
 * The line travels on the child's stdout pipe and an HTTP answer on a socket: a line the child
 * wrote before answering may still be unread when the answer arrives, so it is waited for, not
 * assumed. The bound is a hang guard only; for a line that must not appear, wait for a later line
 * instead of for time.
 */
export async function waitForLine(lines: string[], match: (line: string) => boolean, what: string, boundMs = 30_000): Promise<string> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const found = lines.find(match);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} in the log within ${boundMs} ms; its last lines:\n${lines.slice(-8).join('\n')}`);
    await sleep(10);
  }
}

/**
 * Resolves once `child` has exited and its stdout and stderr are read to their end ('close'), so
 * that its last lines are in whatever collects them. 'exit' alone can come first, with a line such
 * as the EADDRINUSE that explains the exit still in the pipe. Call it right after spawning.
 */
export function closed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => child.once('close', () => resolve()));
}

/**
 * Waits until every line the IdP child process wrote before this call is in `idp.logs`, so that a
 * check that some line is absent cannot pass while the line is still in the pipe. The IdP writes
 * all its log lines to stdout, in order: this asks it for something it refuses and logs (a token
 * request with an unknown refresh token, a `token_error` line) and waits for that line. For lines
 * written before the call only; nothing else may make the IdP log a `token_error` meanwhile.
 */
export async function idpLogsRead(idp: { issuer: string; logs: string[] }, boundMs = 30_000): Promise<void> {
  const marker = (line: string) => line.includes('"event":"token_error"');
  const before = idp.logs.filter(marker).length;
  const res = await fetch(new URL('/oauth/token', idp.issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'spa', refresh_token: 'no-such-refresh-token' }).toString(),
  });
  await res.arrayBuffer();
  if (res.status !== 400) throw new Error(`idpLogsRead: the IdP answered ${res.status} to an unknown refresh token`);
  const deadline = Date.now() + boundMs;
  while (idp.logs.filter(marker).length === before) {
    if (Date.now() > deadline) throw new Error(`idpLogsRead: no token_error line within ${boundMs} ms (does the IdP log at warn or below?)`);
    await sleep(10);
  }
}

export function restartableProcess(script: string, env: Record<string, string>, healthUrl: string): RestartableProcess {
  const logs: string[] = [];
  let child: ChildProcess;
  let childClosed: Promise<void>;
  return {
    logs,
    async launch() {
      const from = logs.length;
      child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      childClosed = closed(child);
      collectLines(child.stdout!, logs);
      collectLines(child.stderr!, logs);
      try {
        await waitForHealthy(healthUrl, child);
      } catch (err) {
        child.kill('SIGKILL');
        await childClosed;
        // What the process said is the only clue to why it did not come up.
        const message = `${(err as Error).message}; its last output:\n${logs.slice(-8).join('\n')}`;
        const taken = logs.slice(from).some((l) => l.includes('EADDRINUSE'));
        throw taken ? new PortTakenError(`${healthUrl}: port taken by another process. ${message}`, { cause: err }) : new Error(message, { cause: err });
      }
    },
    /** Stops the process; once this resolves, `logs` holds every line it wrote. */
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await childClosed;
    },
  };
}

export async function startIdp(env: Record<string, string> = {}): Promise<IdpProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'idp-test-'));
  const { port, base, issuer, fullEnv, logs, stop, launch } = await onFreshPort(async (port) => {
    const base = `http://localhost:${port}`;
    const issuer = env['IDP_ISSUER'] ?? base;
    const fullEnv: Record<string, string> = { IDP_PORT: String(port), IDP_DATA_DIR: dataDir, IDP_LOG_LEVEL: 'info', ...env };
    const { logs, launch, stop } = restartableProcess(IDP_SERVER, fullEnv, `${base}/healthz`);
    await launch();
    return { port, base, issuer, fullEnv, logs, stop, launch };
  }).catch((err: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  return {
    issuer, base, port, dataDir, logs, env: fullEnv,
    stop,
    async restart(signal = 'SIGKILL') {
      await stop(signal);
      await launch();
    },
    async dispose() {
      await stop('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs the IdP expecting it to refuse to start; returns its exit code and output. */
export async function runIdpExpectingFailure(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'idp-test-'));
  try {
    const child = spawn(process.execPath, [IDP_SERVER], { env: { ...process.env, IDP_PORT: String(port), IDP_DATA_DIR: dataDir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const childClosed = closed(child);
    let output = '';
    child.stdout.on('data', (b: Buffer) => { output += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { output += b.toString(); });
    // A hang bound: a refusal comes at start-up, but start-up on a busy machine is slow.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    // Its output read to the end: the refusal is its last line.
    await childClosed;
    const code = child.exitCode;
    clearTimeout(timer);
    return { code, output };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs `fn` against a fresh IdP and disposes of it afterwards, whatever happens. */
export async function withIdp<T>(env: Record<string, string>, fn: (idp: IdpProcess) => Promise<T>): Promise<T> {
  const idp = await startIdp(env);
  try {
    return await fn(idp);
  } finally {
    await idp.dispose();
  }
}
