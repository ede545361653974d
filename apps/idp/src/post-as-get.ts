// OpenID Connect requires the authorization endpoint (Core 3.1.2.1) and the end-session endpoint
// (RP-Initiated Logout 2) to take POST as well as GET: a client may send its request as a form,
// as ASP.NET Core's OpenID Connect handler does with AuthenticationMethod = FormPost. oidc-provider
// serves them by GET only unless its session cookie is SameSite=None (a cross-site form post
// carries no Lax cookie, so the request would meet no session); the IdP keeps Lax. So such a post
// is answered here with a 303 to the same endpoint carrying the form as its query: the browser
// follows with a top-level GET, which carries the Lax cookies, and every check the GET request
// gets (oidc-provider's and ours) is made on it (docs/decisions/0052).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { POST_AS_GET_MAX_BYTES, POST_AS_GET_ROUTES } from './defaults.ts';
import { renderErrorPage } from './views/logout-pages.ts';

/** True for a POST to an endpoint that takes its request as a form post too. */
export function isPostAsGet(req: IncomingMessage, path: string): boolean {
  return req.method === 'POST' && POST_AS_GET_ROUTES.has(path);
}

/** The IdP's error page, as for a GET request it refuses without a redirect. */
function refuse(res: ServerResponse, description: string): void {
  res.writeHead(400, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(renderErrorPage('invalid_request', description));
}

/**
 * Answers a form post to `path` with a 303 to `path?<the form>`. Refused with the error page (400, never a redirect):
 * another body type, a body larger than POST_AS_GET_MAX_BYTES (it becomes a URL), and a request
 * that also has a query (two sets of parameters).
 */
export async function answerPostAsGet(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return refuse(res, 'only application/x-www-form-urlencoded bodies are supported');
  if ((req.url ?? '').includes('?')) return refuse(res, 'parameters must be sent either in the query or in the body');
  if (Number(req.headers['content-length']) > POST_AS_GET_MAX_BYTES) return refuse(res, 'request body too large');
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > POST_AS_GET_MAX_BYTES) return refuse(res, 'request body too large');
    chunks.push(chunk);
  }
  const query = new URLSearchParams(Buffer.concat(chunks, received).toString('utf8')).toString();
  res.writeHead(303, { Location: query ? `${path}?${query}` : path });
  res.end();
}
