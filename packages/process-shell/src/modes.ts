// The modes of what an app keeps in its data directory (docs/decisions/0061).

/**
 * Mode of every file an app keeps in its data directory: its owner's only. The IdP's database
 * holds its private signing keys, cookie keys and refresh tokens, the BFF's its pending logins'
 * PKCE verifiers and the sessions, the API's its users' notes (docs/decisions/0061).
 */
export const DATA_FILE_MODE = 0o600;
/** Mode of a data directory an app creates (one that exists keeps its own). */
export const DATA_DIR_MODE = 0o700;
