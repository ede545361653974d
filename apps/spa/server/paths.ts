// Where the app's sources and its production build live.
import { join } from 'node:path';

export const appDir = join(import.meta.dirname, '..');
export const distDir = join(appDir, 'dist', 'spa', 'browser');
