// The authorization server as the API knows it: its discovery document (checked to name exactly
// our issuer) and its signing keys. Loaded in the background at start-up with retries, because the
// IdP may come up after us; `ready` says both are in hand (for /readyz). The last verified pair is
// kept on disk (issuer-key-cache.ts): an API started while the IdP is unreachable validates with it
// and keeps retrying, and switches to the IdP's own keys as soon as the IdP answers.
import { METADATA_RETRY_MAX_MS, METADATA_RETRY_MIN_MS, type Algorithm } from './defaults.ts';
import { fetchIdpJson } from './idp-client.ts';
import type { IssuerKeyCache } from './issuer-key-cache.ts';
import { Jwks } from './jwks.ts';

export interface IssuerMetadata {
  issuer: string;
  jwks_uri: string;
  introspection_endpoint?: string | undefined;
  authorization_endpoint?: string | undefined;
  token_endpoint?: string | undefined;
}

export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

function endpoint(doc: Record<string, unknown>, name: string, issuer: string, required: boolean): string | undefined {
  const value = doc[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string') throw new Error(`discovery: ${name} missing`);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new Error(`discovery: ${name} is not a URL`);
  }
  const httpsOnly = issuer.startsWith('https:');
  if (parsed.protocol !== 'https:' && (httpsOnly || parsed.protocol !== 'http:')) throw new Error(`discovery: ${name} must be https`);
  return value;
}

/** The metadata a discovery document gives for `issuer`; throws when it names another issuer. */
export function issuerMetadata(doc: Record<string, unknown>, issuer: string): IssuerMetadata {
  // OpenID Connect Discovery §4.3: the document must name exactly the issuer we were configured with.
  if (doc.issuer !== issuer) throw new Error(`discovery: issuer ${JSON.stringify(doc.issuer)} is not ${JSON.stringify(issuer)}`);
  return {
    issuer,
    jwks_uri: endpoint(doc, 'jwks_uri', issuer, true)!,
    introspection_endpoint: endpoint(doc, 'introspection_endpoint', issuer, false),
    authorization_endpoint: endpoint(doc, 'authorization_endpoint', issuer, false),
    token_endpoint: endpoint(doc, 'token_endpoint', issuer, false),
  };
}

export async function fetchIssuerMetadata(issuer: string): Promise<IssuerMetadata> {
  return issuerMetadata(await fetchIdpJson(discoveryUrl(issuer)), issuer);
}

export interface AuthorityOptions {
  issuer: string;
  algorithms: readonly Algorithm[];
  jwksMaxAgeMs: number;
  jwksCooldownMs: number;
  /** Where the last verified metadata and JWKS are kept; none: nothing kept. */
  cache?: IssuerKeyCache | undefined;
  now?: () => number;
  log?: (level: 'info' | 'warn', msg: string) => void;
  onKeysRetired?: () => void;
}

/** Where the keys in use came from: the IdP itself, or the copy kept from an earlier run. */
export type KeySource = 'issuer' | 'cache';

export class Authority {
  private readonly opts: AuthorityOptions;
  metadata: IssuerMetadata | undefined;
  jwks: Jwks | undefined;
  keySource: KeySource | undefined;
  /** The metadata in hand was read from the issuer in this run (not from the cache). */
  private metadataFromIssuer = false;
  /** When the keys in use were saved, while they come from the cache (ms since the epoch). */
  cachedAt: number | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  private settle: (() => void) | undefined;
  /** Copies of the issuer's keys being written: stop() waits for them, so none lands after it. */
  private readonly keeping = new Set<Promise<void>>();

  constructor(opts: AuthorityOptions) {
    this.opts = opts;
  }

  get issuer(): string {
    return this.opts.issuer;
  }

  get ready(): boolean {
    return this.metadata !== undefined && this.jwks !== undefined && this.jwks.loaded;
  }

  /**
   * Starts loading metadata and keys from the issuer, retrying with backoff until both are in.
   * Resolves once the API can validate tokens (with the issuer's keys, or with the cached ones
   * while it keeps retrying), or on stop.
   */
  start(): Promise<void> {
    this.loading ??= new Promise<void>((resolve) => {
      this.settle = resolve;
      let delay = METADATA_RETRY_MIN_MS;
      const attempt = async () => {
        if (this.stopped) return resolve();
        try {
          await this.loadFromIssuer();
          this.opts.log?.('info', `issuer metadata and ${this.jwks!.size} signing key(s) loaded`);
          return resolve();
        } catch (err) {
          const why = (err as Error).message;
          if (!this.ready && this.loadFromCache()) {
            this.opts.log?.('warn', `issuer not available (${why}); validating with the keys kept from ${new Date(this.cachedAt!).toISOString()} while retrying`);
            resolve();
          } else {
            this.opts.log?.('warn', `issuer not available${this.keySource === 'cache' ? ' (still on cached keys)' : ' yet'} (${why}); retrying`);
          }
        }
        if (this.stopped) return resolve();
        this.timer = setTimeout(attempt, delay);
        this.timer.unref();
        delay = Math.min(delay * 2, METADATA_RETRY_MAX_MS);
      };
      void attempt();
    });
    return this.loading;
  }

  private async loadFromIssuer(): Promise<void> {
    // Discovery is read again after running on the cache: the IdP may have moved its endpoints.
    if (!this.metadataFromIssuer) {
      this.metadata = await fetchIssuerMetadata(this.opts.issuer);
      this.metadataFromIssuer = true;
    }
    const metadata = this.metadata!;
    if (this.jwks === undefined) this.jwks = this.newJwks(metadata.jwks_uri);
    this.jwks.uri = metadata.jwks_uri;
    if (!this.jwks.loaded || this.keySource === 'cache') await this.jwks.refresh();
    this.keySource = 'issuer';
    this.cachedAt = undefined;
  }

  private loadFromCache(): boolean {
    const cached = this.opts.cache?.read(this.opts.issuer);
    if (cached === undefined) return false;
    try {
      const metadata = issuerMetadata(cached.discovery, this.opts.issuer);
      const jwks = this.jwks ?? this.newJwks(metadata.jwks_uri);
      jwks.load(cached.jwks);
      this.metadata = metadata;
      this.jwks = jwks;
    } catch (err) {
      this.opts.log?.('warn', `cached issuer keys not usable: ${(err as Error).message}`);
      return false;
    }
    this.keySource = 'cache';
    this.cachedAt = cached.savedAt;
    return true;
  }

  private newJwks(uri: string): Jwks {
    return new Jwks({
      uri,
      algorithms: this.opts.algorithms,
      maxAgeMs: this.opts.jwksMaxAgeMs,
      cooldownMs: this.opts.jwksCooldownMs,
      ...(this.opts.now ? { now: this.opts.now } : {}),
      onError: (m) => this.opts.log?.('warn', `JWKS refresh failed: ${m}`),
      onChange: (added, retired) => {
        if (retired > 0) this.opts.onKeysRetired?.();
        this.opts.log?.('info', `JWKS changed: ${added} key(s) added, ${retired} retired`);
      },
      onFetched: (body) => {
        // Only a set fetched from the jwks_uri of a discovery document naming our issuer is kept.
        if (this.metadata === undefined || !this.metadataFromIssuer || this.stopped) return;
        const write = this.opts.cache?.write(this.opts.issuer, this.discoveryDocument(this.metadata), body)
          .catch((err: Error) => this.opts.log?.('warn', `cannot keep the issuer keys: ${err.message}`));
        if (!write) return;
        this.keeping.add(write);
        void write.finally(() => this.keeping.delete(write));
      },
    });
  }

  private discoveryDocument(m: IssuerMetadata): Record<string, unknown> {
    return Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined));
  }

  /** Stops loading; resolves once a copy of the keys being written has landed (or failed). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.settle?.();
    await Promise.all(this.keeping);
  }
}
