// `npm run build` writes the brotli/gzip copies of the build's files (see @suite/spa-hosting).
import { precompress } from '@suite/spa-hosting';

export { compressedCopies, ENCODINGS, negotiateEncoding, precompress, type Coding } from '@suite/spa-hosting';

if (import.meta.main) {
  const { readArgumentsOrExit } = await import('@suite/config');
  readArgumentsOrExit({ name: 'precompress', synopsis: 'npm run build -w apps/spa', summary: 'Builds the SPA, then writes the brotli/gzip copies of its files; takes no arguments.', options: {} });
  const { distDir } = await import('./paths.ts');
  console.log(`precompressed: ${precompress(distDir)} file(s) written in ${distDir}`);
}
