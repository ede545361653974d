// Every error leaves as RFC 9457 problem details. Client mistakes (bad JSON, schema violations,
// wrong media type, oversized body) keep their 4xx; only a genuine server fault is a 500, and its
// details stay in the log. Unknown paths and methods need a valid token too (then 404, or 405 with
// Allow for a path served with other methods), checked in onRequest
// as on every route, before the body is read: an anonymous request is answered 401 whatever its
// body, so how a body is judged (bad JSON, too large, `__proto__`) tells nothing of the routes.
import type { FastifyError, FastifyPluginCallback, preHandlerHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { isSqliteOutage } from '@suite/process-shell';
import { STORE_OUTAGE_RETRY_AFTER_SECONDS } from '../defaults.ts';
import { DEFAULT_POLICY } from '../policies.ts';
import { problem, sendProblem } from '../problem.ts';

/** Methods a route may have; the answer to any other is 404 (or 400 when it cannot be parsed). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const errors: FastifyPluginCallback = (app, _opts, done) => {
  /** The methods the router serves at `path` (a concrete path, matched as a request's). */
  const methodsServing = (path: string): string[] => METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) {
      return sendProblem(reply, problem(400, 'The request does not match the schema.', {
        errors: err.validation.map((v) => ({ location: `${err.validationContext ?? 'request'}${v.instancePath}`, message: v.message ?? 'invalid' })),
      }));
    }
    const status = err.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return sendProblem(reply, problem(status, err.code?.startsWith('FST_') ? err.message : undefined));
    }
    req.log.error({ err }, 'request failed');
    // The notes database cannot serve now (disk full, read-only, its file gone): an outage, not a bug.
    if (isSqliteOutage(err)) return sendProblem(reply.header('retry-after', String(STORE_OUTAGE_RETRY_AFTER_SECONDS)), problem(503));
    return sendProblem(reply, problem(status === 503 ? 503 : 500));
  });

  // The 404 handler set in a context of its own runs that context's onRequest hooks (Fastify gives
  // setNotFoundHandler only preValidation and preHandler, both after the body is parsed); the
  // routes, outside it, are not touched. A route handing over to it (reply.callNotFound: a file
  // missing under Swagger UI's static route) runs only its preHandler, which authenticates then.
  app.register((notFound, _o, next) => {
    const authenticate = app.authorize(DEFAULT_POLICY);
    notFound.addHook('onRequest', authenticate);
    const preHandler: preHandlerHookHandler = function (req, reply, hookDone) {
      if (req.principal !== undefined) return hookDone();
      authenticate.call(this, req, reply, hookDone);
    };
    notFound.setNotFoundHandler({ preHandler }, (req, reply) => {
      // A path the API serves, asked with another method: 405 naming the methods it has (RFC 9110
      // §15.5.6), told only to a caller with a valid token, as the route table is (decision 0058).
      const allowed = methodsServing(req.url.split('?', 1)[0]!);
      if (allowed.length > 0 && !allowed.includes(req.method)) {
        return sendProblem(reply.header('allow', allowed.join(', ')), problem(405, 'The resource does not support this method.'));
      }
      sendProblem(reply, problem(404, 'No such resource.'));
    });
    next();
  });
  done();
};

export default fp(errors, { name: 'errors', fastify: '5.x', dependencies: ['authentication'] });
