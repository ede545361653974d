import { HttpErrorResponse, HttpResponse, type HttpEvent } from '@angular/common/http';
import { Observable } from 'rxjs';

/** What an early request's server answered (status 0: no answer, the request failed on the network). */
export interface EarlyAnswer {
  status: number;
  statusText: string;
  body: unknown;
}

/**
 * A request sent with `fetch` at start-up, before Angular and the code that will ask for it have
 * loaded, waiting to be handed (once) to that code's identical request: by an HttpClient interceptor
 * in token mode (early-idp-requests.ts), by BffHttp in BFF mode.
 */
export interface EarlyRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  /** A POST's form fields. */
  readonly form: URLSearchParams | null;
  readonly answer: Promise<EarlyAnswer>;
  taken: boolean;
}

/** A fetch response as an answer: its status and its JSON body (null when the body is not JSON). */
export async function readAnswer(res: Response): Promise<EarlyAnswer> {
  return { status: res.status, statusText: res.statusText, body: await res.json().catch(() => null) };
}

/** The answer of a request that failed on the network (status 0, as HttpClient reports it). */
export function networkFailure(error: unknown): EarlyAnswer {
  return { status: 0, statusText: 'Unknown Error', body: error };
}

export function earlyRequest(method: 'GET' | 'POST', url: string, form: URLSearchParams | null, response: Promise<Response>): EarlyRequest {
  const answer = response.then(readAnswer);
  // The taker's request sees a failure; an answer nobody takes is no unhandled rejection.
  answer.catch(() => {});
  return { method, url, form, answer, taken: false };
}

/**
 * The early request's answer as the HttpClient response of the request it stands for (marking it
 * taken): a 2xx is the response, anything else the HttpErrorResponse the request itself would
 * have had (status 0 when it failed on the network), unless `resend` says to send the request
 * itself instead (`send`), for an idempotent request whose failure is worth a second try.
 */
export function takeEarlyAnswer(early: EarlyRequest, send: () => Observable<HttpEvent<unknown>>, resend: (answer: EarlyAnswer) => boolean): Observable<HttpEvent<unknown>> {
  early.taken = true;
  const url = early.url;
  return new Observable<HttpEvent<unknown>>((subscriber) => {
    void early.answer
      .catch(networkFailure)
      .then((answer) => {
        if (answer.status >= 200 && answer.status < 300) {
          subscriber.next(new HttpResponse({ status: answer.status, statusText: answer.statusText, body: answer.body, url }));
          subscriber.complete();
        } else if (resend(answer)) {
          send().subscribe(subscriber);
        } else {
          subscriber.error(new HttpErrorResponse({ status: answer.status, statusText: answer.statusText, error: answer.body, url }));
        }
      });
  });
}
