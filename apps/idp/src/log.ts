// Structured JSON log lines on stdout. Callers pass named fields only; nothing here ever receives
// a password, token, code or secret, and `safeFields` drops any field whose name suggests one.
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };
const SENSITIVE = /pass|secret|token|code|cookie|authorization|jti|assertion|verifier/i;

export interface Logger {
  log(level: Level, event: string, fields?: Record<string, unknown>): void;
}

function safeFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = SENSITIVE.test(k) && k !== 'grantType' && k !== 'error' ? '[redacted]' : v;
  }
  return out;
}

export function createLogger(minLevel: Level | 'silent', write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Logger {
  return {
    log(level, event, fields = {}) {
      if (ORDER[level] < ORDER[minLevel]) return;
      write(JSON.stringify({ time: new Date().toISOString(), level, app: 'idp', event, ...safeFields(fields) }));
    },
  };
}
