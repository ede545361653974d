// Environment configuration, validated once at start-up. Each app declares one schema: a record of
// variable name -> field. `loadConfig` reads every variable, collects every problem, and throws a
// single ConfigError naming each bad variable and what was expected, so a misconfigured app never
// half-starts.

export interface Field<T> {
  /** What the variable means, for .env.example and the README. */
  readonly doc: string;
  /** Default as it would be written in the environment; undefined means required, '' optional. */
  readonly default?: string | undefined;
  /** What a valid value looks like, used in error messages. */
  readonly expected: string;
  /** Marks values never to be echoed back (secrets). */
  readonly secret?: boolean;
  parse(raw: string): T;
}

export type Schema = Record<string, Field<unknown>>;
export type ConfigOf<S extends Schema> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

class InvalidValue extends Error {}

interface Options<T> {
  doc: string;
  default?: string | undefined;
  secret?: boolean;
  check?: (value: T) => string | undefined;
}

function field<T>(expected: string, parse: (raw: string) => T, opts: Options<T>): Field<T> {
  return {
    doc: opts.doc,
    default: opts.default,
    expected,
    secret: opts.secret ?? false,
    parse(raw) {
      const value = parse(raw);
      const problem = opts.check?.(value);
      if (problem) throw new InvalidValue(problem);
      return value;
    },
  };
}

export function str(opts: Options<string> & { minLength?: number }): Field<string> {
  const min = opts.minLength ?? 1;
  return field(min > 1 ? `a string of at least ${min} characters` : 'a non-empty string', (raw) => {
    if (raw.length < min) throw new InvalidValue(`expected at least ${min} characters`);
    return raw;
  }, opts);
}

export function int(opts: Options<number> & { min?: number; max?: number }): Field<number> {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  return field(`an integer from ${min} to ${max}`, (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new InvalidValue('not an integer');
    const n = Number(raw);
    if (n < min || n > max) throw new InvalidValue(`out of range`);
    return n;
  }, opts);
}

export function port(opts: Options<number>): Field<number> {
  return int({ ...opts, min: 0, max: 65535 });
}

export function bool(opts: Options<boolean>): Field<boolean> {
  return field('true or false', (raw) => {
    const v = raw.trim().toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new InvalidValue('not a boolean');
  }, opts);
}

export function oneOf<const T extends string>(values: readonly T[], opts: Options<T>): Field<T> {
  return field(`one of ${values.join(', ')}`, (raw) => {
    if (!(values as readonly string[]).includes(raw)) throw new InvalidValue('not an allowed value');
    return raw as T;
  }, opts);
}

/** An absolute URL (http or https unless `protocols` says otherwise), returned as written. */
export function url(opts: Options<string> & { protocols?: string[] }): Field<string> {
  const protocols = opts.protocols ?? ['http', 'https'];
  return field(`an absolute ${protocols.map((p) => `${p}://`).join(' or ')} URL`, (raw) => {
    let parsed: URL;
    try {
      parsed = new URL(raw.trim());
    } catch {
      throw new InvalidValue('not a URL');
    }
    if (!protocols.includes(parsed.protocol.slice(0, -1))) throw new InvalidValue(`not ${protocols.join(' or ')}`);
    return raw.trim();
  }, opts);
}

/** A web origin (scheme://host[:port]) with no path, query or fragment. */
export function origin(raw: string): string {
  const parsed = new URL(raw);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InvalidValue('not http(s)');
  if (parsed.origin !== raw.replace(/\/$/, '')) throw new InvalidValue(`"${raw}" is not a bare origin`);
  return parsed.origin;
}

/** A comma-separated list, each item parsed by `item`. */
export function list<T>(item: (raw: string) => T, opts: Options<T[]> & { what: string; minItems?: number }): Field<T[]> {
  const minItems = opts.minItems ?? 1;
  return field(`a comma-separated list of ${opts.what}`, (raw) => {
    const parts = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (parts.length < minItems) throw new InvalidValue(`expected at least ${minItems} item(s)`);
    return parts.map((p) => {
      try {
        return item(p);
      } catch {
        throw new InvalidValue(`"${p}" is not ${opts.what.replace(/s$/, '')}`);
      }
    });
  }, opts);
}

export function loadConfig<S extends Schema>(schema: S, env: Record<string, string | undefined> = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(schema)) {
    const given = env[name];
    const raw = given === undefined || given === '' ? f.default : given;
    if (raw === undefined) {
      problems.push(`${name} is required: expected ${f.expected} (${f.doc})`);
      continue;
    }
    if (raw === '') {
      // An empty default marks an optional variable: unset means "not given".
      out[name] = '';
      continue;
    }
    try {
      out[name] = f.parse(raw);
    } catch (err) {
      const shown = f.secret ? '(hidden)' : JSON.stringify(raw);
      const why = err instanceof InvalidValue ? `: ${err.message}` : '';
      problems.push(`${name}=${shown} is invalid${why}; expected ${f.expected}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

/** For a server's entry point: the configuration, or a clear message naming each bad variable and exit code 2. */
export function readConfigOrExit<T>(app: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`[${app}] ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}
