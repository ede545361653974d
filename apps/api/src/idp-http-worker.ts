// The IdP client's thread (idp-client.ts): runs each request it is sent with fetchJsonObject and
// answers with the JSON object, or with the error's message.
import { parentPort } from 'node:worker_threads';
import { fetchJsonObject, type IdpRequest } from './idp-http.ts';

export interface IdpCall {
  id: number;
  url: string;
  req: IdpRequest;
}

export type IdpAnswer = { id: number; value: Record<string, unknown> } | { id: number; error: string };

const port = parentPort!;
port.on('message', (call: IdpCall) => {
  fetchJsonObject(call.url, call.req).then(
    (value) => port.postMessage({ id: call.id, value } satisfies IdpAnswer),
    (err: unknown) => port.postMessage({ id: call.id, error: (err as Error).message } satisfies IdpAnswer),
  );
});
