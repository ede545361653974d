// Builds the API against a test issuer, with its own temporary data directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi, type Api } from '../../src/app.ts';
import { readApiConfig } from '../../src/config.ts';
import type { TestIssuer } from './test-issuer.ts';

export interface TestApi extends Api {
  dispose(): Promise<void>;
}

export async function startApi(issuer: TestIssuer, env: Record<string, string> = {}, now?: () => number): Promise<TestApi> {
  const dataDir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const config = readApiConfig({
    AUTH_AUTHORITY: issuer.issuer,
    API_DATA_DIR: dataDir,
    API_LOG_LEVEL: 'silent',
    API_CLIENT_ID: issuer.clientCredentials.id,
    API_CLIENT_SECRET: issuer.clientCredentials.secret,
    ...env,
  });
  const api = buildApi(config, { logger: false, ...(now ? { now } : {}) });
  await api.app.ready();
  await api.authority.start();
  return {
    ...api,
    async dispose() {
      await api.app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
