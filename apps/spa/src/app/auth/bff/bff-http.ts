import { inject, Injectable, InjectionToken } from '@angular/core';
import { networkFailure, readAnswer, type EarlyAnswer } from '../early-request';
import { EARLY_BFF_REQUESTS } from './early-bff-requests';

/** A BFF call that did not succeed: the status (0: no answer, the request failed on the network) and the body. */
export class BffCallError extends Error {
  readonly status: number;
  readonly body: unknown;

  constructor(status: number, body: unknown) {
    super(status === 0 ? 'the BFF could not be reached' : `the BFF answered ${status}`);
    this.name = 'BffCallError';
    this.status = status;
    this.body = body;
  }
}

/** How BffHttp sends a request (tests replace it). */
export const BFF_FETCH = new InjectionToken<typeof fetch>('BFF_FETCH', {
  providedIn: 'root',
  factory: () => (input, init) => fetch(input, init),
});

/**
 * BFF mode's calls, to the BFF's own origin only, with `fetch`: every one carries `X-CSRF: 1`
 * (the BFF refuses /bff/* and /api/* without it; a page of another origin cannot send that
 * header, which needs CORS the BFF never grants) and the session cookie. A GET answered by the
 * start-up's early request (startEarlyBffRequests) takes that answer, once; an early GET that got
 * no answer (network failure) is sent again.
 *
 * BFF mode needs nothing else of HTTP: no HttpClient, no interceptors, no rxjs on its path, so
 * the return page compiles and runs less before the session and the page's data are shown.
 */
@Injectable()
export class BffHttp {
  private readonly early = inject(EARLY_BFF_REQUESTS, { optional: true });
  private readonly send = inject(BFF_FETCH);

  /** The body of a 2xx answer (null when it is not JSON); BffCallError otherwise. */
  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const url = sameOriginPath(path);
    let answer = method === 'GET' ? await this.takeEarly(url) : null;
    if (!answer || answer.status === 0) answer = await this.fetchAnswer(method, url, body);
    if (answer.status >= 200 && answer.status < 300) return answer.body as T;
    throw new BffCallError(answer.status, answer.body);
  }

  private async takeEarly(url: string): Promise<EarlyAnswer | null> {
    const early = this.early ? [this.early.user, this.early.pageData].find((r) => r !== null && !r.taken && r.url === url) : undefined;
    if (!early) return null;
    early.taken = true;
    return early.answer.catch(networkFailure);
  }

  private async fetchAnswer(method: string, url: string, body: unknown): Promise<EarlyAnswer> {
    const headers: Record<string, string> = { 'X-CSRF': '1', Accept: 'application/json, text/plain, */*' };
    const init: RequestInit = { method, headers, credentials: 'same-origin' };
    if (body !== undefined && body !== null) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await this.send(url, init);
    } catch (error) {
      return networkFailure(error);
    }
    return readAnswer(response);
  }
}

/**
 * `path` as a path of this origin; anything that would leave it (`//elsewhere`, a full URL of
 * another origin) is refused, so the CSRF header and the cookie never go anywhere else.
 */
function sameOriginPath(path: string): string {
  const url = new URL(path, location.href);
  if (url.origin !== location.origin) throw new Error(`BffHttp calls its own origin only, not ${url.origin}`);
  return url.pathname + url.search;
}
