// RFC 9457 problem details: every refusal of a /bff/* or /api/* call the BFF makes itself.
import type { FastifyReply } from 'fastify';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  413: 'Content Too Large', 415: 'Unsupported Media Type', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
}

export function problem(status: number, detail?: string): Problem {
  return { type: 'about:blank', title: TITLES[status] ?? 'Error', status, ...(detail ? { detail } : {}) };
}

export function sendProblem(reply: FastifyReply, status: number, detail?: string): FastifyReply {
  return reply.code(status).header('cache-control', 'no-store').type(PROBLEM_CONTENT_TYPE).send(problem(status, detail));
}
