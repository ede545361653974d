// Reference figures for reading the API rows: how many RS256 signature checks a CPU-second buys with
// node:crypto (what a verifier built on KeyObject pays) and with jose's jwtVerify (WebCrypto).
// A request that must check a signature can never be cheaper than one check.
import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { importJWK, jwtVerify, SignJWT, exportJWK } from 'jose';

export const PRIMITIVE_ROWS = {
  nodeVerify: 'RS256 signature check, node:crypto.verify (KeyObject)',
  joseVerify: 'RS256 JWT verification, jose jwtVerify (WebCrypto)',
} as const;

export interface PrimitiveResult {
  id: keyof typeof PRIMITIVE_ROWS;
  label: string;
  /** Per CPU-second of the bench process. */
  perSecond: number;
}

/** Operations per CPU-second of this process (all threads: WebCrypto works on the thread pool), so other processes on the machine do not skew it. */
async function rate(seconds: number, op: () => unknown): Promise<number> {
  let n = 0;
  const cpu = process.cpuUsage();
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) await op();
    n += 50;
  }
  const used = process.cpuUsage(cpu);
  return n / ((used.user + used.system) / 1e6);
}

export async function measurePrimitives(seconds: number): Promise<PrimitiveResult[]> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ scope: 'auth0-user-api-spa', azp: 'spa' })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' })
    .setIssuer('https://issuer.example').setAudience('https://auth0-api-spa').setSubject('auth0|alice')
    .setIssuedAt(now).setExpirationTime(now + 3600).sign(privateKey);
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const signingInput = Buffer.from(`${header}.${payload}`);
  const sig = Buffer.from(signature, 'base64url');
  const keyObject: KeyObject = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }));
  const joseKey = await importJWK({ ...(await exportJWK(publicKey)), alg: 'RS256' }, 'RS256');
  const options = { issuer: 'https://issuer.example', audience: 'https://auth0-api-spa', algorithms: ['RS256'] };
  if (!verify('RSA-SHA256', signingInput, keyObject, sig)) throw new Error('node:crypto refused a valid signature');
  await jwtVerify(token, joseKey, options);
  // Warm both paths, then measure each for the same time.
  await rate(Math.min(0.5, seconds), () => verify('RSA-SHA256', signingInput, keyObject, sig));
  await rate(Math.min(0.5, seconds), () => jwtVerify(token, joseKey, options));
  return [
    { id: 'nodeVerify', label: PRIMITIVE_ROWS.nodeVerify, perSecond: await rate(seconds, () => verify('RSA-SHA256', signingInput, keyObject, sig)) },
    { id: 'joseVerify', label: PRIMITIVE_ROWS.joseVerify, perSecond: await rate(seconds, () => jwtVerify(token, joseKey, options)) },
  ];
}
