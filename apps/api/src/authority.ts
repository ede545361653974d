// The authorization server as the API knows it: its discovery document (read once, checked to
// name exactly our issuer) and its signing keys. Loaded in the background at start-up with
// retries, because the IdP may come up after us; `ready` says both are in hand (for /readyz).
import { METADATA_RETRY_MAX_MS, METADATA_RETRY_MIN_MS, type Algorithm } from './defaults.ts';
import { fetchJsonObject } from './idp-http.ts';
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

export async function fetchIssuerMetadata(issuer: string): Promise<IssuerMetadata> {
  const doc = await fetchJsonObject(discoveryUrl(issuer));
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

export interface AuthorityOptions {
  issuer: string;
  algorithms: readonly Algorithm[];
  jwksMaxAgeMs: number;
  jwksCooldownMs: number;
  now?: () => number;
  log?: (level: 'info' | 'warn', msg: string) => void;
  onKeysRetired?: () => void;
}

export class Authority {
  private readonly opts: AuthorityOptions;
  metadata: IssuerMetadata | undefined;
  jwks: Jwks | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  private settle: (() => void) | undefined;

  constructor(opts: AuthorityOptions) {
    this.opts = opts;
  }

  get issuer(): string {
    return this.opts.issuer;
  }

  get ready(): boolean {
    return this.metadata !== undefined && this.jwks !== undefined && this.jwks.loaded;
  }

  /** Starts loading metadata and keys, retrying with backoff until both are in; resolves then (or on stop). */
  start(): Promise<void> {
    this.loading ??= new Promise<void>((resolve) => {
      this.settle = resolve;
      let delay = METADATA_RETRY_MIN_MS;
      const attempt = async () => {
        if (this.stopped) return resolve();
        try {
          await this.loadOnce();
          this.opts.log?.('info', `issuer metadata and ${this.jwks!.size} signing key(s) loaded`);
          return resolve();
        } catch (err) {
          this.opts.log?.('warn', `issuer not available yet (${(err as Error).message}); retrying`);
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

  private async loadOnce(): Promise<void> {
    this.metadata ??= await fetchIssuerMetadata(this.opts.issuer);
    this.jwks ??= new Jwks({
      uri: this.metadata.jwks_uri,
      algorithms: this.opts.algorithms,
      maxAgeMs: this.opts.jwksMaxAgeMs,
      cooldownMs: this.opts.jwksCooldownMs,
      ...(this.opts.now ? { now: this.opts.now } : {}),
      onError: (m) => this.opts.log?.('warn', `JWKS refresh failed: ${m}`),
      onChange: (added, retired) => {
        if (retired > 0) this.opts.onKeysRetired?.();
        this.opts.log?.('info', `JWKS changed: ${added} key(s) added, ${retired} retired`);
      },
    });
    if (!this.jwks.loaded) await this.jwks.refresh();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.settle?.();
  }
}
