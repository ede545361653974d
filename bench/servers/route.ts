// What every benchmarked server answers, so that all rows do the same work apart from auth:
// GET /api/UserOne returns the same small JSON document as our API's route of that name.

export const USER_ONE_PATH = '/api/UserOne';
export const USER_ONE_BODY = ['user one data'] as const;
export const USER_ONE_SCHEMA = { type: 'array', items: { type: 'string' } } as const;

/** Settings every bench server reads from its environment. */
export interface BenchServerEnv {
  port: number;
  issuer: string;
  audience: string;
  scope: string;
}

export function readBenchEnv(): BenchServerEnv {
  const port = Number(process.env['BENCH_PORT']);
  if (!Number.isInteger(port) || port <= 0) throw new Error('BENCH_PORT must be a port number');
  return {
    port,
    issuer: process.env['BENCH_ISSUER'] ?? '',
    audience: process.env['BENCH_AUDIENCE'] ?? 'https://auth0-api-spa',
    scope: process.env['BENCH_SCOPE'] ?? 'auth0-user-api-spa',
  };
}

/**
 * The claim that names the client in the bench IdP's access tokens: its default profile is RFC
 * 9068's (`client_id`); Auth0's own profile names it `azp`. The peers check it as our API does.
 */
export const CLIENT_CLAIM = 'client_id';
export const CLIENT_ID = 'spa';
