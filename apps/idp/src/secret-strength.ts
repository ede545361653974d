// The floor every secret the IdP is configured with must clear (docs/decisions/0073): client
// secrets (the clients file's client_secret_env variables) and cookie keys. A client secret is
// all that stands between anyone who can reach the token, revocation and introspection endpoints
// and that client's tokens, and those endpoints count no failed attempts (a count per client_id
// would let anyone lock the BFF out): a secret must be too strong to guess online, not slowed down.
import { CLIENT_SECRET_MIN_LENGTH, SECRET_MIN_DISTINCT_CHARACTERS } from './defaults.ts';

/**
 * What is wrong with a secret, or undefined: shorter than `minLength`, or made of fewer than
 * SECRET_MIN_DISTINCT_CHARACTERS different characters (a repeated character or word, which a
 * length alone lets through; a random value of that length never has so few). Never quotes it.
 */
export function secretWeakness(secret: string, minLength: number): string | undefined {
  const length = [...secret].length;
  if (length < minLength) return `it has ${length} characters, at least ${minLength} are needed`;
  const distinct = new Set(secret).size;
  if (distinct < SECRET_MIN_DISTINCT_CHARACTERS) return `it is made of ${distinct} different characters, at least ${SECRET_MIN_DISTINCT_CHARACTERS} are needed (a repeated character or word)`;
  return undefined;
}

/** The shortest client secret accepted in a profile. */
export const clientSecretMinLength = (production: boolean): number => CLIENT_SECRET_MIN_LENGTH[production ? 'production' : 'development'];
