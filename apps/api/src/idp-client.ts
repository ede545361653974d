// How the API calls the IdP (discovery, JWKS, introspection): idp-http.ts's bounded fetch, run on
// a thread of its own. The thread is for the request path, not for the IdP's: V8 shares inline
// caches process-wide, and the HTTP client's sockets, streams and undici objects passing through
// Node's net, stream and events code on the main thread turned that code's caches megamorphic for
// the server's own sockets too: after the few IdP calls of start-up, every cached-token request
// cost 5–10 % more CPU (bench/README.md). A call costs one message each way more, next to a
// network round trip. The thread starts on the first call, and keeps the process alive only while
// a call is pending.
import { Worker } from 'node:worker_threads';
import { IdpHttpError, type IdpRequest } from './idp-http.ts';
import type { IdpAnswer, IdpCall } from './idp-http-worker.ts';

const pending = new Map<number, { resolve: (value: Record<string, unknown>) => void; reject: (err: Error) => void }>();
let worker: Worker | undefined;
let lastId = 0;

function start(): Worker {
  const w = new Worker(new URL('./idp-http-worker.ts', import.meta.url));
  w.unref();
  w.on('message', (answer: IdpAnswer) => {
    const call = pending.get(answer.id);
    if (!call) return;
    pending.delete(answer.id);
    if (pending.size === 0) w.unref();
    if ('error' in answer) call.reject(new IdpHttpError(answer.error));
    else call.resolve(answer.value);
  });
  // A thread that fails fails its pending calls; the next call starts a new one.
  const fail = (why: string) => {
    if (worker === w) worker = undefined;
    for (const call of pending.values()) call.reject(new IdpHttpError(`IdP client thread ${why}`));
    pending.clear();
  };
  w.on('error', (err) => fail(`failed: ${err.message}`));
  w.on('exit', (code) => fail(`exited (${code})`));
  return w;
}

/** fetchJsonObject (idp-http.ts), on the IdP client's thread: the same answers and errors. */
export function fetchIdpJson(url: string, req: IdpRequest = {}): Promise<Record<string, unknown>> {
  worker ??= start();
  const w = worker;
  const id = ++lastId;
  return new Promise((resolve, reject) => {
    if (pending.size === 0) w.ref();
    pending.set(id, { resolve, reject });
    w.postMessage({ id, url, req } satisfies IdpCall);
  });
}

/**
 * Ends the IdP client's thread, failing the calls it has pending; the next call starts a new one.
 * The thread never holds the process open while idle, so a server needs no call to this.
 */
export async function stopIdpClientThread(): Promise<void> {
  await worker?.terminate();
}
