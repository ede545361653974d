/** What went wrong, in the terms the user needs to act on. */
export type ProblemKind =
  | 'session-ended'
  | 'sign-in-failed'
  | 'forbidden'
  | 'api-unreachable'
  | 'idp-unreachable'
  /** Still signed in, but the access token is past and the IdP cannot renew it now; retrying (decision 0076). */
  | 'renewal-unavailable'
  /** Signed out in this browser, but the IdP could not be reached to revoke the session or end it there (decision 0076). */
  | 'signed-out-here-only'
  | 'failed';

export interface Problem {
  readonly kind: ProblemKind;
  /**
   * Technical detail for the 'failed' kind, from our own API; never contains a token, never text
   * from the URL (a callback's `state` or `error` is chosen by whoever sent the browser there).
   */
  readonly detail?: string;
}

/** Raised by AuthSession.callApi; pages show it with <app-problem-message>. */
export class ApiError extends Error {
  readonly problem: Problem;
  readonly status: number;

  constructor(problem: Problem, status: number) {
    super(problem.detail ?? problem.kind);
    this.name = 'ApiError';
    this.problem = problem;
    this.status = status;
  }
}

/** Maps an HTTP status (0 = no answer at all) to the problem the user sees. */
export function problemForStatus(status: number, detail?: string): Problem {
  if (status === 0) return { kind: 'api-unreachable' };
  if (status === 401) return { kind: 'session-ended' };
  if (status === 403) return { kind: 'forbidden' };
  return { kind: 'failed', detail: detail ?? `The API answered ${status}.` };
}

/** The reason a refusal gives in its body (problem details or an OAuth error), never a token. */
export function errorBodyDetail(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null) {
    const record = body as Record<string, unknown>;
    const text = record['detail'] ?? record['error_description'] ?? record['error'];
    if (typeof text === 'string') return text;
  }
  return undefined;
}
