// Every SQLite store keeps what it acknowledged through a power cut in production (decision 0063):
// the IdP's (used codes' and refresh tokens' marks, rotations), the BFF's sessions (logouts,
// rotated refresh tokens, back-channel logout token ids) and the API's notes run with
// synchronous=FULL unless told otherwise (each commit fsynced); development keeps NORMAL (survives
// a killed process, not a power cut). Each store is opened from its app's configuration the way
// the app opens it, and the setting read back from the connection it actually uses.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, mock, test } from 'node:test';
import { buildApi } from '../apps/api/src/app.ts';
import { readApiConfig } from '../apps/api/src/config.ts';
import { readBffConfig } from '../apps/bff/src/config.ts';
import { openSessionStore } from '../apps/bff/src/sessions/open-store.ts';
import { readIdpConfig } from '../apps/idp/src/config.ts';
import { createLogger } from '../apps/idp/src/log.ts';
import { openStore } from '../apps/idp/src/storage/open-store.ts';

const scratch = mkdtempSync(join(tmpdir(), 'sqlite-durability-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const SYNCHRONOUS = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

/** The synchronous setting of each connection the stores open (file name -> setting), read from the connection after each PRAGMA. */
function recordSynchronous(): Map<string, string> {
  const seen = new Map<string, string>();
  const exec = DatabaseSync.prototype.exec;
  mock.method(DatabaseSync.prototype, 'exec', function (this: DatabaseSync, sql: string) {
    const result = exec.call(this, sql);
    if (/synchronous/i.test(sql)) {
      const value = Number((this.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous);
      seen.set(String(this.location()).split('/').pop()!, SYNCHRONOUS[value]!);
    }
    return result;
  });
  return seen;
}

/** Each app's SQLite store, opened from its configuration (`env` added to what the profile needs) as the app opens it. */
const apps: Array<{ name: string; file: string; profileVariable: string; setting: string; production: Record<string, string>; open(dir: string, env: Record<string, string>): Promise<void> }> = [
  {
    name: 'IdP', file: 'idp.sqlite', profileVariable: 'IDP_PROFILE', setting: 'IDP_SQLITE_SYNCHRONOUS', production: {},
    async open(dir, env) {
      const store = await openStore(readIdpConfig({ IDP_DATA_DIR: dir, ...env }), { logger: createLogger('silent', () => {}) });
      await store.close();
    },
  },
  {
    name: 'BFF', file: 'bff.sqlite', profileVariable: 'BFF_PROFILE', setting: 'BFF_SQLITE_SYNCHRONOUS',
    production: { BFF_PUBLIC_URL: 'https://bff.example', BFF_CLIENT_SECRET: 'a-production-secret', BFF_TOKEN_KEYS: Buffer.alloc(32, 7).toString('base64') },
    async open(dir, env) {
      const store = await openSessionStore(readBffConfig({ BFF_DATA_DIR: dir, ...env }), Date.now);
      await store.close();
    },
  },
  {
    name: 'API', file: 'notes.sqlite', profileVariable: 'API_PROFILE', setting: 'API_SQLITE_SYNCHRONOUS', production: { AUTH_ALLOWED_CLIENTS: 'spa' },
    async open(dir, env) {
      // Built as the server builds it (the notes store is opened then); nothing listens or fetches.
      const api = buildApi(readApiConfig({ API_DATA_DIR: dir, API_LOG_LEVEL: 'silent', ...env }));
      await api.app.close();
    },
  },
];

for (const app of apps) {
  test(`${app.name}: its SQLite store fsyncs each commit in production (FULL), not in development (NORMAL); ${app.setting} overrides either`, async () => {
    const cases: Array<[string, Record<string, string>, string]> = [
      ['production', { [app.profileVariable]: 'production', ...app.production }, 'FULL'],
      ['development', {}, 'NORMAL'],
      ['production told NORMAL', { [app.profileVariable]: 'production', ...app.production, [app.setting]: 'NORMAL' }, 'NORMAL'],
      ['development told FULL', { [app.setting]: 'FULL' }, 'FULL'],
    ];
    for (const [what, env, expected] of cases) {
      const seen = recordSynchronous();
      try {
        await app.open(mkdtempSync(join(scratch, `${app.name}-`)), env);
      } finally {
        mock.restoreAll();
      }
      assert.equal(seen.get(app.file), expected, what);
    }
  });
}
