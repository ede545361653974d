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
  /** The value as a message shows it: credentials in a URL hidden (a list: in each item). */
  show(raw: string): string;
  /** Only meaningful when another variable has this value (a store's URL with that store chosen). */
  readonly appliesWhen?: readonly [variable: string, value: string] | undefined;
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
  show?: (raw: string) => string;
  appliesWhen?: readonly [variable: string, value: string];
  check?: (value: T) => string | undefined;
}

function field<T>(expected: string, parse: (raw: string) => T, opts: Options<T>): Field<T> {
  return {
    doc: opts.doc,
    default: opts.default,
    expected,
    secret: opts.secret ?? false,
    show: opts.show ?? redactUrlPassword,
    appliesWhen: opts.appliesWhen,
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

/**
 * An absolute http:// or https:// URL, returned as written. Never with credentials (they would be
 * logged with the URL and fetch refuses them), a query or a fragment (an issuer has neither, and a
 * base URL has paths appended to it); with `origin`, not with a path either.
 */
export function url(opts: Options<string> & { origin?: boolean }): Field<string> {
  const what = opts.origin ? 'an http:// or https:// origin (scheme://host[:port], no path but an optional trailing /)' : 'an absolute http:// or https:// URL without credentials, query or fragment';
  return field(what, (raw) => {
    const parsed = parseUrl(raw, ['http', 'https']);
    if (parsed.username || parsed.password) throw new InvalidValue('has credentials');
    if (parsed.search || raw.includes('?')) throw new InvalidValue('has a query');
    if (parsed.hash || raw.includes('#')) throw new InvalidValue('has a fragment');
    if (opts.origin && parsed.pathname !== '/') throw new InvalidValue('has a path');
    return raw;
  }, opts);
}

/** A redis:// or rediss:// URL: optional credentials, a database number as its only path, no fragment. */
export function redisUrl(opts: Options<string>): Field<string> {
  return field('an absolute redis:// or rediss:// URL (redis://[:password@]host:port/db)', (raw) => {
    const parsed = parseUrl(raw, ['redis', 'rediss']);
    if (!parsed.hostname) throw new InvalidValue('has no host');
    if (!/^(\/\d*)?$/.test(parsed.pathname)) throw new InvalidValue('its path is not a database number');
    if (parsed.hash || raw.includes('#')) throw new InvalidValue('has a fragment');
    return raw;
  }, opts);
}

function parseUrl(raw: string, protocols: string[]): URL {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new InvalidValue('not a URL');
  }
  if (!protocols.includes(parsed.protocol.slice(0, -1))) throw new InvalidValue(`not ${protocols.join(' or ')}`);
  return parsed;
}

/** A web origin (scheme://host[:port]) with no path, query or fragment. */
export function origin(raw: string): string {
  const parsed = new URL(raw);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InvalidValue('not http(s)');
  if (parsed.origin !== raw.replace(/\/$/, '')) throw new InvalidValue('not a bare origin: it has a path, query, fragment or credentials');
  return parsed.origin;
}

/**
 * A comma-separated list, each item parsed by `item` (spaces around commas allowed). An empty item
 * (`a,,b`, a trailing comma) or one listed twice is refused: it is a lost or mistyped value.
 * Items of a secret list are never quoted in messages, only numbered.
 */
export function list<T>(item: (raw: string) => T, opts: Options<T[]> & { what: string; minItems?: number }): Field<T[]> {
  const minItems = opts.minItems ?? 1;
  return field(`a comma-separated list of ${opts.what}`, (raw) => {
    const parts = raw.split(',').map((s) => s.trim());
    const name = (i: number) => (opts.secret ? `item ${i + 1}` : JSON.stringify(redactUrlPassword(parts[i]!)));
    const empty = parts.findIndex((p) => p.length === 0);
    if (empty >= 0) throw new InvalidValue(`item ${empty + 1} is empty`);
    if (parts.length < minItems) throw new InvalidValue(`expected at least ${minItems} item(s)`);
    const seen = new Map<string, number>();
    return parts.map((p, i) => {
      let value: T;
      try {
        value = item(p);
      } catch (err) {
        const why = err instanceof InvalidValue ? ` (${err.message})` : '';
        throw new InvalidValue(`${name(i)} is not valid${why}`);
      }
      const key = JSON.stringify(value);
      const first = seen.get(key);
      if (first !== undefined) throw new InvalidValue(`${name(i)} repeats ${name(first)}`);
      seen.set(key, i);
      return value;
    });
  }, { ...opts, show: (raw) => raw.split(',').map(redactUrlPassword).join(',') });
}

/** An item of a secret list (cookie keys): at least `minLength` characters. */
export function secretItem(minLength: number): (raw: string) => string {
  return (raw) => {
    if (raw.length < minLength) throw new InvalidValue(`shorter than ${minLength} characters`);
    return raw;
  };
}

export interface LoadOptions {
  /**
   * The app's own variable prefixes (`IDP_`…): a variable with one of them that the schema does
   * not name is refused, so that a mistyped name (IDP_PROFLE=production) cannot leave its
   * setting at the default unnoticed.
   */
  prefixes?: readonly string[];
  /** Further names with those prefixes that the app reads (variables named in a clients file). */
  alsoKnown?: readonly string[];
}

export function loadConfig<S extends Schema>(schema: S, env: Record<string, string | undefined> = process.env, options: LoadOptions = {}): ConfigOf<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(schema)) {
    const given = env[name];
    // Empty means "not given" only where not giving is a choice of its own (an optional variable);
    // elsewhere it is a value lost on the way (IDP_PROFILE=${PROFILE} with PROFILE unset), not
    // a wish for the default.
    if (given === '' && f.default !== '') {
      problems.push(`${name} is empty: give ${f.expected}, or unset it${f.default === undefined ? ' (it is required)' : ' for the default'}`);
      continue;
    }
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
    const shown = f.secret ? '(hidden)' : JSON.stringify(f.show(raw));
    const malformed = malformedText(raw);
    if (malformed) {
      problems.push(`${name}=${shown} is invalid: ${malformed}; expected ${f.expected}`);
      continue;
    }
    try {
      out[name] = f.parse(raw);
    } catch (err) {
      const why = err instanceof InvalidValue ? `: ${err.message}` : '';
      const link = serviceLinkOf(name, raw);
      const hint = link ? `; this is what Kubernetes sets for a Service named "${link.service}" (a service link), not a setting: set enableServiceLinks: false in the pod spec, or give the Service another name` : '';
      problems.push(`${name}=${shown} is invalid${why}; expected ${f.expected}${hint}`);
    }
  }
  problems.push(...inapplicableVariables(schema, env, out));
  problems.push(...unknownVariables(schema, env, options));
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

/**
 * What is wrong with a value as text, whatever its type: spaces or line breaks around it (a
 * secret read from a file keeps its trailing newline), or a control character anywhere. Such a
 * value is refused rather than trimmed, since whoever else holds it (the IdP for a client secret)
 * would not trim it the same way.
 */
function malformedText(raw: string): string | undefined {
  if (raw.trim() !== raw) return raw.trim() === '' ? 'only white space' : 'white space or a line break around it';
  if (/[\x00-\x1f\x7f]/.test(raw)) return 'a control character (a line break, a tab) in it';
  return undefined;
}

/**
 * A URL (a value with `://`) as messages and log lines show it, with whatever may be a
 * credential replaced by ***:
 * its password, or a user part without one (a token written as `https://TOKEN@host`), the values
 * of its query (ioredis takes `?password=` from there) and its fragment. The user part is read as
 * everything between `scheme://` and the last `@`, not as a URL parser reads it: a password with
 * an unescaped `#`, `/` or `?` (`redis://:p#ss@host`) makes the URL unparseable, or parse as a
 * host, port and path, and it is exactly such a value that a configuration error shows.
 */
export function redactUrlPassword(raw: string): string {
  const scheme = raw.indexOf('://');
  if (scheme < 0) return raw;
  const start = scheme + 3;
  const at = raw.lastIndexOf('@');
  let shown = raw;
  if (at >= start) {
    const userinfo = raw.slice(start, at);
    const colon = userinfo.indexOf(':');
    shown = raw.slice(0, start) + (colon >= 0 ? `${userinfo.slice(0, colon)}:***` : '***') + raw.slice(at);
  }
  const hash = shown.indexOf('#', at >= start ? shown.indexOf('@', start) : start);
  if (hash >= 0) shown = `${shown.slice(0, hash)}#***`;
  const query = shown.indexOf('?', at >= start ? shown.indexOf('@', start) : start);
  if (query >= 0) {
    const params = shown.slice(query + 1).split('&').map((p) => (p.includes('=') ? `${p.slice(0, p.indexOf('='))}=***` : p && '***'));
    shown = `${shown.slice(0, query + 1)}${params.join('&')}`;
  }
  return shown;
}

/**
 * Variables set although the mode they belong to is not chosen (IDP_REDIS_URL with IDP_STORE left
 * at sqlite): whoever set them meant that mode, and running in the other one would split the
 * state of several instances without a word.
 */
function inapplicableVariables(schema: Schema, env: Record<string, string | undefined>, parsed: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [name, f] of Object.entries(schema)) {
    if (!f.appliesWhen || env[name] === undefined || env[name] === '') continue;
    const [variable, value] = f.appliesWhen;
    if (!(variable in parsed) || String(parsed[variable]) === value) continue;
    problems.push(`${name} is set, but applies only with ${variable}=${value} (${variable} is ${String(parsed[variable])}): set ${variable}=${value}, or remove ${name}`);
  }
  return problems;
}

function unknownVariables(schema: Schema, env: Record<string, string | undefined>, options: LoadOptions): string[] {
  const prefixes = options.prefixes ?? [];
  const known = new Set([...Object.keys(schema), ...(options.alsoKnown ?? [])]);
  const problems: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (known.has(name) || !prefixes.some((p) => name.startsWith(p))) continue;
    // Kubernetes gives every pod these for each Service of its namespace: an app's prefix is a
    // likely Service name, and no setting is ever spelt so.
    if (serviceLinkOf(name, env[name] ?? '')) continue;
    const near = nearest(name, [...known]);
    problems.push(`${name} is not a setting of this app${near ? ` (did you mean ${near}?)` : ''}: correct or remove it`);
  }
  return problems;
}

/** Kubernetes' service-link variables for a Service `svc-name`: SVC_NAME_SERVICE_HOST, …_PORT=tcp://ip:port, …_PORT_8080_TCP_ADDR. */
const SERVICE_LINK_NAME = /^([A-Z][A-Z0-9_]*?)_(?:SERVICE_HOST|SERVICE_PORT(?:_[A-Z0-9_]+)?|PORT_\d{1,5}_(?:TCP|UDP|SCTP)(?:_PROTO|_PORT|_ADDR)?)$/;
const SERVICE_LINK_PORT_VALUE = /^(?:tcp|udp|sctp):\/\/[0-9A-Fa-f.:[\]]+:\d{1,5}$/;

/**
 * The Service a variable was set for by Kubernetes' service links, read from its name (and, for
 * `X_PORT`, from its value `tcp://10.0.0.7:3000`, which no setting takes), or undefined.
 */
export function serviceLinkOf(name: string, value: string): { service: string } | undefined {
  const match = SERVICE_LINK_NAME.exec(name) ?? (SERVICE_LINK_PORT_VALUE.test(value) ? /^([A-Z][A-Z0-9_]*)_PORT$/.exec(name) : null);
  return match ? { service: match[1]!.toLowerCase().replaceAll('_', '-') } : undefined;
}

/** The known name closest to `name`, if close enough to be what was meant. */
function nearest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const candidate of known) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The default browser-facing URL of an app, http://localhost:PORT. Port 0 (any free port) gives
 * no such URL: the explicit variable is then required.
 */
export function localUrlOfPort(port: number, portName: string, urlName: string): string {
  if (port === 0) throw new ConfigError([`${portName}=0 (any free port) needs ${urlName}: its default, http://localhost:${portName}, cannot name a port chosen at start-up`]);
  return `http://localhost:${port}`;
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

/** An option a command takes (`--now`), with what it does for its usage line. */
export interface CommandOption {
  readonly type: 'boolean' | 'string';
  readonly doc: string;
  /** What the value of a string option is, for the usage line (VALUE when unset). */
  readonly value?: string;
}

/** What `readArguments` refuses: an argument the command does not take. */
export class ArgumentError extends Error {}

/**
 * The arguments of a command an operator types (a server's entry point, `rotate-keys`,
 * `hash-password`): the options it takes and nothing else. An unknown or misspelt option
 * (`--nwo` for `--now`), a value given to a switch, a missing value or a stray word is refused
 * with an ArgumentError naming it (and the option meant, when one is close), never ignored: an
 * ignored `--nwo` would silently do the command's other thing. `--help` is always understood.
 */
export function readArguments<O extends Record<string, CommandOption>>(options: O, args: readonly string[]): { help: boolean; values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string } } {
  const values: Record<string, boolean | string> = {};
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    const name = m?.[1];
    const option = name !== undefined && Object.hasOwn(options, name) ? options[name] : undefined;
    if (!m || !name || !option) {
      // Its value is not repeated: a word typed where none is taken may be a secret (a password).
      if (!m) throw new ArgumentError(`unexpected argument #${i + 1} (not shown: it may be a secret): this command takes ${Object.keys(options).length ? 'only the options listed' : 'no arguments'}`);
      const meant = nearest(name ?? '', Object.keys(options));
      throw new ArgumentError(`unknown option --${name}${meant ? ` (did you mean --${meant}?)` : ''}`);
    }
    if (Object.hasOwn(values, name)) throw new ArgumentError(`--${name} given twice`);
    if (option.type === 'boolean') {
      if (m[2] !== undefined) throw new ArgumentError(`--${name} takes no value`);
      values[name] = true;
    } else {
      const value = m[2] ?? args[++i];
      if (value === undefined || (m[2] === undefined && value.startsWith('--'))) throw new ArgumentError(`--${name} needs a value`);
      values[name] = value;
    }
  }
  return { help, values: values as never };
}

/** The usage text of a command: its synopsis, what it does, and each option. */
export function commandUsage(synopsis: string, summary: string, options: Record<string, CommandOption>): string {
  const lines = [`usage: ${synopsis}`, '', summary];
  const names = Object.keys(options);
  if (names.length) {
    lines.push('', 'options:');
    for (const name of names) lines.push(`  --${name}${options[name]!.type === 'string' ? ` ${options[name]!.value ?? 'VALUE'}` : ''}  ${options[name]!.doc}`);
  }
  return lines.join('\n');
}

/**
 * For a command's entry point: its arguments as `readArguments` reads them, before it does
 * anything. `--help` prints the usage and exits 0; a refused argument prints why and the usage on
 * stderr and exits 2 (the exit code of a bad configuration).
 */
export function readArgumentsOrExit<O extends Record<string, CommandOption>>(command: { name: string; synopsis: string; summary: string; options: O }, args: readonly string[] = process.argv.slice(2)): ReturnType<typeof readArguments<O>>['values'] {
  const usage = commandUsage(command.synopsis, command.summary, command.options);
  try {
    const { help, values } = readArguments(command.options, args);
    if (help) {
      console.log(usage);
      process.exit(0);
    }
    return values;
  } catch (err) {
    if (!(err instanceof ArgumentError)) throw err;
    console.error(`${command.name}: ${err.message}\n\n${usage}`);
    process.exit(2);
  }
}

/**
 * For a server's entry point, which takes no argument (its configuration is the environment):
 * any argument (`--port 4401`, a misspelt flag) stops it with exit 2 before it starts, rather than
 * a server started on other settings than the operator typed.
 */
export function refuseArgumentsOrExit(app: string, args: readonly string[] = process.argv.slice(2)): void {
  readArgumentsOrExit({
    name: `[${app}]`,
    synopsis: `npm start -w apps/${app}`,
    summary: 'Takes no arguments: it is configured by environment variables only (README.md, "Configuration").',
    options: {},
  }, args);
}
