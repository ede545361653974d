// The login page and the implied consent of first-party clients, served at /interaction/:uid.
// oidc-provider hands the browser here when it needs a login or consent; we finish the
// interaction and it carries on with the authorization request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { ClientRegistry } from './clients.ts';
import { grantImpliedConsent, type MissingConsent } from './implied-consent.ts';
import type { InteractionBinding } from './interaction-binding.ts';
import { LOGIN_FORM_MAX_BYTES, STORE_UNAVAILABLE_RETRY_AFTER_SECONDS, USERNAME_MAX_LENGTH } from './defaults.ts';
import type { Logger } from './log.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { StoreUnavailableError } from './storage/store.ts';
import type { UserDirectory } from './users.ts';
import { renderErrorPage } from './views/logout-pages.ts';
import { renderLoginPage } from './views/login-page.ts';

const GENERIC_LOGIN_ERROR = 'Wrong username or password.';
/** prompt=select_account (provider.ts): answered with the login page, where the user picks the account. */
export const ACCOUNT_SELECTION_PROMPT = 'select_account';
/** The prompts the login page answers. */
const LOGIN_PAGE_PROMPTS: ReadonlySet<string> = new Set(['login', ACCOUNT_SELECTION_PROMPT]);

export interface InteractionDeps {
  provider: () => Provider;
  registry: ClientRegistry;
  users: UserDirectory;
  throttle: LoginThrottle;
  logger: Logger;
  trustProxy: boolean;
  binding: InteractionBinding;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) throw new HttpError(415, 'Expected a form submission.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > LOGIN_FORM_MAX_BYTES) throw new HttpError(413, 'Form too large.');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Behind a trusted proxy, the address it appended last; anything before it is client-supplied. */
function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? String(req.headers['x-forwarded-for'] ?? '').split(',').at(-1)?.trim() : '';
  return forwarded || req.socket.remoteAddress || 'unknown';
}

/**
 * What a failed or throttled login's log line says about the username typed: the registered name,
 * or only that none matched. A username that matches nobody is often a password typed into the
 * wrong field (or a neighbour's account name); written as typed, it would put a password in the log.
 */
function loggedUsername(users: UserDirectory, typed: string): { username: string } | { username: null; knownUser: false } {
  const registered = users.registeredUsername(typed);
  return registered === undefined ? { username: null, knownUser: false } : { username: registered };
}

/**
 * The username an authorization request's `login_hint` suggests (Auth0's SDKs send it to prefill
 * the login page): a string only, without control characters or surrounding white space, cut to
 * the field's length. It only fills the field: whoever signs in is the user, and nothing on the
 * page says whether the hinted name exists (docs/decisions/0052).
 */
function hintedUsername(params: Record<string, unknown>): string | undefined {
  const hint = params['login_hint'];
  if (typeof hint !== 'string') return undefined;
  return hint.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim().slice(0, USERNAME_MAX_LENGTH) || undefined;
}

function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', ...headers });
  res.end(html);
}

export function createInteractionHandler(deps: InteractionDeps) {
  const { registry, users, throttle, logger } = deps;

  async function showLoginPage(res: ServerResponse, uid: string, clientId: string, extra: { status?: number; username?: string; error?: string; headers?: Record<string, string> } = {}) {
    const client = registry.clients.find((c) => c.client_id === clientId);
    sendHtml(res, extra.status ?? 200, renderLoginPage({ uid, clientName: String(client?.client_name ?? clientId), username: extra.username, error: extra.error }), extra.headers);
  }

  async function grantConsent(req: IncomingMessage, res: ServerResponse, details: Awaited<ReturnType<Provider['interactionDetails']>>) {
    const provider = deps.provider();
    const clientId = String(details.params['client_id']);
    if (!registry.policies.get(clientId)?.firstParty) {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'consent is implied only for first-party clients' });
      return;
    }
    const accountId = details.session!.accountId;
    const user = users.findBySub(accountId);
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId });
    if (!grant || !user) throw new HttpError(400, 'The sign-in request is no longer valid.');
    grantImpliedConsent(grant, details.prompt.details as MissingConsent, user.apiScopes);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  async function submitLogin(req: IncomingMessage, res: ServerResponse, details: Awaited<ReturnType<Provider['interactionDetails']>>) {
    const form = await readForm(req);
    const username = (form.get('username') ?? '').slice(0, USERNAME_MAX_LENGTH);
    const password = form.get('password') ?? '';
    const clientId = String(details.params['client_id']);
    const ip = clientIp(req, deps.trustProxy);
    if (!username || !password) {
      await showLoginPage(res, details.uid, clientId, { status: 400, username, error: 'Enter your username and password.' });
      return;
    }
    const decision = await throttle.reserve(username, ip);
    if (!decision.allowed) {
      logger.log('warn', 'login_throttled', { ...loggedUsername(users, username), ip, clientId });
      await showLoginPage(res, details.uid, clientId, {
        status: 429, username, error: 'Too many failed sign-in attempts. Try again later.',
        headers: { 'Retry-After': String(decision.retryAfterSeconds) },
      });
      return;
    }
    await throttle.wait(decision);
    const user = await users.authenticate(username, password);
    if (!user) {
      logger.log('warn', 'login_failure', { ...loggedUsername(users, username), ip, clientId, delayMs: decision.delayMs });
      await showLoginPage(res, details.uid, clientId, { status: 401, username, error: GENERIC_LOGIN_ERROR });
      return;
    }
    await throttle.succeeded(username, ip);
    logger.log('info', 'login_success', { sub: user.sub, ip, clientId });
    // Signing in on the page answers an account selection too: the user picked this account.
    const selected = details.prompt.name === ACCOUNT_SELECTION_PROMPT ? { [ACCOUNT_SELECTION_PROMPT]: {} } : {};
    await deps.provider().interactionFinished(req, res, { login: { accountId: user.sub }, ...selected }, { mergeWithLastSubmission: false });
  }

  return async function handleInteraction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const match = /^\/interaction\/([A-Za-z0-9_-]{1,64})(\/login|\/abort)?$/.exec(path);
    try {
      if (!match) throw new HttpError(404, 'Not found.');
      const [, uid, action] = match;
      const provider = deps.provider();
      let details;
      try {
        details = await provider.interactionDetails(req, res);
      } catch (err) {
        if (err instanceof StoreUnavailableError) throw err;
        throw new HttpError(400, 'This sign-in request has expired or is not valid. Go back to the application and start again.');
      }
      if (details.uid !== uid) throw new HttpError(400, 'This sign-in request does not match your browser session.');
      // Its cookie alone may have been planted: the page, the password and the cancel answer only
      // the browser that started the sign-in (interaction-binding.ts).
      if (!(await deps.binding.isBrowserOf(req, uid))) {
        throw new HttpError(400, 'This sign-in request was started in another browser. Go back to the application and sign in from there.');
      }
      const method = req.method ?? 'GET';
      if (!action && method === 'GET') {
        if (LOGIN_PAGE_PROMPTS.has(details.prompt.name)) {
          return await showLoginPage(res, details.uid, String(details.params['client_id']), { username: hintedUsername(details.params) });
        }
        if (details.prompt.name === 'consent') return await grantConsent(req, res, details);
        throw new HttpError(400, `Unsupported prompt ${details.prompt.name}.`);
      }
      if (action === '/login' && method === 'POST') {
        if (!LOGIN_PAGE_PROMPTS.has(details.prompt.name)) throw new HttpError(400, 'This sign-in request is not waiting for a login.');
        return await submitLogin(req, res, details);
      }
      if (action === '/abort' && method === 'POST') {
        return await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User aborted interaction' });
      }
      throw new HttpError(405, 'Method not allowed.');
    } catch (err) {
      if (res.headersSent) return;
      if (err instanceof StoreUnavailableError) {
        sendHtml(res, 503, renderErrorPage(err.error, 'Sign-in is unavailable for a moment. Try again shortly.'), { 'Retry-After': String(STORE_UNAVAILABLE_RETRY_AFTER_SECONDS) });
        return;
      }
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) logger.log('error', 'interaction_error', { message: (err as Error).message });
      sendHtml(res, status, renderErrorPage(status === 500 ? 'server_error' : 'invalid_request', status === 500 ? 'Something went wrong on our side.' : (err as Error).message));
    }
  };
}
