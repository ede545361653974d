// Builds the Angular app when dist is missing or older than its sources (see @suite/spa-hosting).
import { ensureBuilt as ensureAppBuilt, isBuildStale as isAppBuildStale } from '@suite/spa-hosting';
import { appDir, distDir } from './paths.ts';

export { appDir, distDir };

export function isBuildStale(): boolean {
  return isAppBuildStale({ appDir, distDir });
}

export function ensureBuilt(log: (line: string) => void): void {
  ensureAppBuilt({ appDir, distDir }, log);
}
