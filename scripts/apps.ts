// The apps `npm start` runs, in start order, with where each one answers its health check.
// An app whose folder does not exist yet is skipped, so the list can name apps still to come.
import { API_NODE_FLAGS } from '../apps/api/src/node-flags.ts';

export interface AppEntry {
  name: string;
  title: string;
  portVar: string;
  defaultPort: number;
  healthPath: string;
  /** Module that starts the app, relative to its folder. */
  entry: string;
  /** Options for Node (V8) that the app's own start script passes too. */
  nodeFlags?: readonly string[];
}

export const apps: AppEntry[] = [
  { name: 'idp', title: 'Identity provider', portVar: 'IDP_PORT', defaultPort: 4400, healthPath: '/healthz', entry: 'src/server.ts' },
  { name: 'api', title: 'Resource API', portVar: 'API_PORT', defaultPort: 5001, healthPath: '/healthz', entry: 'src/server.ts', nodeFlags: API_NODE_FLAGS },
  { name: 'spa', title: 'Angular SPA', portVar: 'SPA_PORT', defaultPort: 4200, healthPath: '/healthz', entry: 'server/server.ts' },
  { name: 'bff', title: 'SPA behind the BFF', portVar: 'BFF_PORT', defaultPort: 4300, healthPath: '/healthz', entry: 'src/server.ts' },
];

export function appPort(app: AppEntry, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[app.portVar];
  return raw ? Number(raw) : app.defaultPort;
}
