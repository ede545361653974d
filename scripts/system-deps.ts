// Debian packages the test suite needs (a real browser, a real Redis). As root on a machine that
// lacks them they are installed with apt-get; otherwise we say exactly what to install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const systemDeps = [
  { pkg: 'chromium', binary: '/usr/bin/chromium', why: 'end-to-end tests in a real browser' },
  { pkg: 'redis-server', binary: '/usr/bin/redis-server', why: 'the Redis adapter for scaled-out IdPs' },
];

export function ensureSystemDeps(): boolean {
  const missing = systemDeps.filter((d) => !existsSync(d.binary));
  if (missing.length === 0) return true;
  const names = missing.map((d) => d.pkg);
  if (process.getuid?.() !== 0) {
    console.error(`Missing Debian packages: ${names.join(' ')}.\nInstall them with: sudo apt-get update && sudo apt-get install -y ${names.join(' ')}`);
    return false;
  }
  console.log(`Installing Debian packages: ${names.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...names], { stdio: 'inherit', env });
  const ok = update.status === 0 && install.status === 0 && missing.every((d) => existsSync(d.binary));
  if (!ok) console.error(`Could not install ${names.join(' ')}; install them by hand.`);
  return ok;
}
