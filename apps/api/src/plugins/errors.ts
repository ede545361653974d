// Every error leaves as RFC 9457 problem details. Client mistakes (bad JSON, schema violations,
// wrong media type, oversized body) keep their 4xx; only a genuine server fault is a 500, and its
// details stay in the log. Unknown paths need a valid token too, then answer 404.
import type { FastifyError, FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import { DEFAULT_POLICY } from '../policies.ts';
import { problem, sendProblem } from '../problem.ts';

const errors: FastifyPluginCallback = (app, _opts, done) => {
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
    return sendProblem(reply, problem(status === 503 ? 503 : 500));
  });

  app.setNotFoundHandler({ preHandler: app.authorize(DEFAULT_POLICY) }, (_req, reply) => {
    sendProblem(reply, problem(404, 'No such resource.'));
  });
  done();
};

export default fp(errors, { name: 'errors', fastify: '5.x', dependencies: ['authentication'] });
