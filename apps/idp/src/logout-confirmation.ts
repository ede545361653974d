// The answer to the sign-out page (POST /oidc/logout/confirm). oidc-provider reads a confirmation
// without `logout` as "sign out of the requesting client only": it revokes that client's grant and
// drops it from the session, although the page's "No, stay signed in" button posts exactly that.
// The page is shown because nothing proved the request came from the session's own client (no
// hint of this session, decision 0006), so a refusal must end nothing: only a form that says
// `logout` reaches oidc-provider's confirmation; any other answer leaves the session, its clients
// and their grants as they were (docs/decisions/0055, part 1).
import type { IncomingMessage } from 'node:http';
import { LOGOUT_FORM_MAX_BYTES } from './defaults.ts';
import { readBoundedBody, requestWithFormBody, type Refusal } from './json-bodies.ts';

export type LogoutAnswer = { confirmed: IncomingMessage } | { declined: true } | Refusal;

const isForm = (req: IncomingMessage) =>
  (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';

/**
 * Reads the posted answer. A form with a non-empty `logout` (what oidc-provider takes as yes, the
 * page's "Yes" button and its self-submitting form) is handed on as it came, every check of
 * oidc-provider's (xsrf, duplicates) still to be made; no body, another type, or no `logout` is a no.
 */
export async function readLogoutAnswer(req: IncomingMessage): Promise<LogoutAnswer> {
  const raw = await readBoundedBody(req, LOGOUT_FORM_MAX_BYTES);
  if ('refused' in raw) return raw;
  const form = raw.toString('utf8');
  const saysYes = isForm(req) && new URLSearchParams(form).getAll('logout').some((value) => value !== '');
  return saysYes ? { confirmed: requestWithFormBody(req, form) } : { declined: true };
}
