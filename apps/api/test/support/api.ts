// Builds the API against a test issuer, with its own temporary data directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi, type Api, type BuildOptions } from '../../src/app.ts';
import { readApiConfig } from '../../src/config.ts';
import type { TestIssuer } from './test-issuer.ts';

export interface TestApi extends Api {
  dataDir: string;
  dispose(): Promise<void>;
}

/** The API against `issuer`, silent, in a fresh data directory (or `dataDir`, kept on dispose). */
export async function startApi(issuer: TestIssuer, env: Record<string, string> = {}, options: Omit<BuildOptions, 'logger'> & { dataDir?: string } = {}): Promise<TestApi> {
  const { dataDir: given, ...build } = options;
  const dataDir = given ?? mkdtempSync(join(tmpdir(), 'api-test-'));
  const config = readApiConfig({
    AUTH_AUTHORITY: issuer.issuer,
    API_DATA_DIR: dataDir,
    API_LOG_LEVEL: 'silent',
    API_CLIENT_ID: issuer.clientCredentials.id,
    API_CLIENT_SECRET: issuer.clientCredentials.secret,
    ...env,
  });
  const api = buildApi(config, { logger: false, ...build });
  await api.app.ready();
  await api.authority.start();
  return {
    ...api,
    dataDir,
    async dispose() {
      await api.app.close();
      if (given === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
