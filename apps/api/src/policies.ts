// Named authorization policies, declared here and only here, built from requirements as in
// ASP.NET Core: a policy passes when every one of its requirements passes. A route names its
// policy in `config.policy`; a route naming none gets the default policy (any valid token), and
// only routes marked `config.public` skip authentication altogether.
import { forbidden, insufficientScope, type BearerError } from './problem.ts';
import type { Principal } from './principal.ts';

/**
 * A requirement answers undefined when met, or the refusal to send. Its verdict must depend on the
 * principal alone: a policy remembers which principal it admitted last.
 */
export interface Requirement {
  check(principal: Principal): BearerError | undefined;
}

export interface Policy {
  readonly name: string;
  /** Undefined when every requirement passes, else the first refusal. */
  evaluate(principal: Principal): BearerError | undefined;
}

/** Any authenticated caller: the token itself was valid. */
export function requireAuthenticatedUser(): Requirement {
  return { check: () => undefined };
}

/** The token's scope contains `scope` (403 insufficient_scope naming it otherwise). */
export function requireScope(scope: string): Requirement {
  return {
    check: (p) => (p.scopes.has(scope) ? undefined : insufficientScope(scope)),
  };
}

/** The token was issued to one of `clientIds` (azp, or client_id when there is no azp). */
export function requireClient(clientIds: readonly string[]): Requirement {
  const allowed = new Set(clientIds);
  return {
    check: (p) => (p.clientId !== undefined && allowed.has(p.clientId) ? undefined : forbidden('client_not_allowed')),
  };
}

/**
 * Whether the token was issued to a client acting for itself (the client_credentials grant), not
 * for a user: Auth0 marks it with gty client-credentials and names the client as `<client_id>@clients`;
 * other providers (RFC 9068 §2.2) name the client itself as the subject.
 */
export function isClientOnlyToken(p: Principal): boolean {
  return p.claims['gty'] === 'client-credentials'
    || (p.clientId !== undefined && (p.subject === p.clientId || p.subject === `${p.clientId}@clients`));
}

/**
 * A user is behind the token: a route acting for the token's subject (its notes, keyed by sub)
 * never takes a client's own token for a user's (403 otherwise).
 */
export function requireUser(): Requirement {
  return { check: (p) => (isClientOnlyToken(p) ? forbidden('user_required') : undefined) };
}

/** No user is behind the token: a machine-to-machine client calls for itself (403 otherwise). */
export function requireService(): Requirement {
  return { check: (p) => (isClientOnlyToken(p) ? undefined : forbidden('service_required')) };
}

/** A string claim equal to one of `values`. */
export function requireClaim(name: string, values: readonly string[]): Requirement {
  const allowed = new Set(values);
  return {
    check: (p) => {
      const v = p.claims[name];
      return typeof v === 'string' && allowed.has(v) ? undefined : forbidden('claim_not_satisfied');
    },
  };
}

export function policy(name: string, ...requirements: Requirement[]): Policy {
  const reqs = [requireAuthenticatedUser(), ...requirements];
  const self: Policy = {
    name,
    evaluate(principal) {
      // A cached principal is the same object on every request of its token: admitted once by
      // this policy, admitted again, without reading its scopes and client out of memory
      // (decision 0026).
      if (principal.admittedBy === self) return undefined;
      for (const r of reqs) {
        const refusal = r.check(principal);
        if (refusal) return refusal;
      }
      principal.admittedBy = self;
      return undefined;
    },
  };
  return self;
}

export const DEFAULT_POLICY = 'default';
/** The reference design's policy: a user's token with the API scope, from one of the allowed clients. */
export const USER_API_POLICY = 'p-user-api-auth0';
/** Machine-to-machine calls: a client's own token with the service scope, from one of the allowed service clients. */
export const SERVICE_API_POLICY = 'p-service-api-auth0';

export interface PolicySettings {
  requiredScope: string;
  allowedClients: readonly string[];
  /** Service policy; without them it admits nobody. */
  serviceScope?: string;
  allowedServiceClients?: readonly string[];
}

export type PolicyName = typeof DEFAULT_POLICY | typeof USER_API_POLICY | typeof SERVICE_API_POLICY;

export function buildPolicies(settings: PolicySettings): ReadonlyMap<string, Policy> {
  const all: Policy[] = [
    policy(DEFAULT_POLICY),
    policy(USER_API_POLICY, requireUser(), requireScope(settings.requiredScope), requireClient(settings.allowedClients)),
    policy(SERVICE_API_POLICY, requireService(), requireScope(settings.serviceScope ?? ''), requireClient(settings.allowedServiceClients ?? [])),
  ];
  return new Map(all.map((p) => [p.name, p]));
}
