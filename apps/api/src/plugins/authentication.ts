// Authenticated by default: every route gets an onRequest hook that validates the bearer token
// and applies the route's named policy (config.policy, else the default policy), unless the
// route is explicitly public (config.public, or under one of the documentation prefixes). Runs
// before the body is read, so an unauthenticated request costs no parsing.
import type { FastifyPluginCallback, FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { bearerToken } from '../bearer-token.ts';
import { DEFAULT_POLICY, type Policy, type PolicyName } from '../policies.ts';
import { BearerError, invalidToken, sendBearerError } from '../problem.ts';
import type { Principal } from '../principal.ts';
import type { RefusalLog } from '../refusal-log.ts';
import type { TokenValidator } from '../token-validator.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the token is valid and the route's policy passed; undefined on public routes. */
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    /** Reachable without a token (health, OpenAPI). */
    public?: boolean;
    /** Named policy (policies.ts); routes naming none need any valid token. */
    policy?: PolicyName;
  }
  interface FastifyInstance {
    /** A hook enforcing `policyName`, for handlers outside the route table (the 404 handler). */
    authorize(policyName: PolicyName): onRequestHookHandler;
  }
}

export interface AuthenticationOptions {
  validator: TokenValidator;
  policies: ReadonlyMap<string, Policy>;
  maxTokenLength: number;
  refusals: RefusalLog;
  /** Route URL prefixes served without authentication (Swagger UI and its assets). */
  publicPrefixes: readonly string[];
}

const AUTH_HOOK = Symbol('authentication hook');

function queryHasToken(req: FastifyRequest): boolean {
  const q = req.query as Record<string, unknown> | undefined;
  return q !== undefined && q !== null && q.access_token !== undefined;
}

function isPublic(route: RouteOptions, prefixes: readonly string[]): boolean {
  if (route.config?.public === true) return true;
  return prefixes.some((p) => route.url === p || route.url.startsWith(`${p}/`));
}

const authentication: FastifyPluginCallback<AuthenticationOptions> = (app, opts, done) => {
  const { validator, policies, maxTokenLength, refusals } = opts;

  function refuse(req: FastifyRequest, reply: FastifyReply, err: unknown): void {
    let refusal: BearerError;
    if (err instanceof BearerError) {
      refusal = err;
    } else {
      // A bug in validation must fail closed, as a bad token, never as a 500.
      req.log.error({ err }, 'token validation failed unexpectedly');
      refusal = invalidToken('validation_error');
    }
    refusals.record(req.log, refusal);
    sendBearerError(reply, refusal);
  }

  function hookFor(policy: Policy): onRequestHookHandler {
    const admit = (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction, principal: Principal) => {
      const refusal = policy.evaluate(principal);
      if (refusal !== undefined) return refuse(req, reply, refusal);
      req.principal = principal;
      // Per-user answers: never stored by shared caches.
      reply.header('cache-control', 'no-store');
      done();
    };
    const hook = function authenticate(req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
      let result: Principal | Promise<Principal>;
      try {
        result = validator.validate(bearerToken(req.raw, maxTokenLength, queryHasToken(req)));
      } catch (err) {
        return refuse(req, reply, err);
      }
      if (result instanceof Promise) {
        result.then((p) => admit(req, reply, done, p), (err: unknown) => refuse(req, reply, err));
      } else {
        admit(req, reply, done, result);
      }
    };
    (hook as unknown as Record<symbol, boolean>)[AUTH_HOOK] = true;
    return hook;
  }

  function policyNamed(name: string): Policy {
    const policy = policies.get(name);
    if (!policy) throw new Error(`unknown authorization policy "${name}"`);
    return policy;
  }

  app.decorateRequest('principal', undefined);
  app.decorate('authorize', (name: PolicyName) => hookFor(policyNamed(name)));

  app.addHook('onRoute', (route) => {
    if (isPublic(route, opts.publicPrefixes)) return;
    const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    // HEAD routes are derived from GET routes and arrive here with the hook already in place.
    if (existing.some((h) => (h as unknown as Record<symbol, boolean>)[AUTH_HOOK])) return;
    route.onRequest = [hookFor(policyNamed(route.config?.policy ?? DEFAULT_POLICY)), ...existing];
  });
  done();
};

export default fp(authentication, { name: 'authentication', fastify: '5.x' });
