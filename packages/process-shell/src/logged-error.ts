// How the servers that log through pino (the API, the BFF) write an error: its type, message,
// code and stack, and nothing else. pino's own serializer writes every enumerable property a
// library attached, and libraries attach what they were given: ioredis the failed command with its
// arguments (a login record's nonce and PKCE verifier, a session record, and those of every
// command of a failed transaction), HTTP clients their request, SQLite drivers their statement.

/** An error as a log line carries it. */
export function loggedError(err: Error): { type: string; message: string; stack: string; code?: string } {
  // Some lines pass only a message under `err`: written as it is.
  if (!(err instanceof Error)) return err as never;
  const { code } = err as Error & { code?: unknown };
  return { type: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}), stack: err.stack ?? '' };
}
