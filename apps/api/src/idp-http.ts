// The only way the API talks to the IdP: bounded in time and size, no redirects followed, JSON
// objects only. Used for discovery, JWKS and introspection.
import { IDP_MAX_RESPONSE_BYTES, IDP_REQUEST_TIMEOUT_MS } from './defaults.ts';

export class IdpHttpError extends Error {
  override readonly name = 'IdpHttpError';
}

export interface IdpRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export async function fetchJsonObject(url: string, req: IdpRequest = {}): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method ?? 'GET',
      headers: { accept: 'application/json', ...req.headers },
      body: req.body,
      redirect: 'error',
      signal: AbortSignal.timeout(IDP_REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new IdpHttpError(`${url}: ${(err as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable'}`);
  }
  const text = await readBounded(res, url);
  if (!res.ok) throw new IdpHttpError(`${url}: HTTP ${res.status}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new IdpHttpError(`${url}: not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new IdpHttpError(`${url}: not a JSON object`);
  return value as Record<string, unknown>;
}

async function readBounded(res: Response, url: string): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > IDP_MAX_RESPONSE_BYTES) {
        await reader.cancel();
        throw new IdpHttpError(`${url}: response larger than ${IDP_MAX_RESPONSE_BYTES} bytes`);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof IdpHttpError) throw err;
    throw new IdpHttpError(`${url}: response interrupted`);
  }
  return Buffer.concat(chunks).toString('utf8');
}
