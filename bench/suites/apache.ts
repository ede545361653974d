// Row (i), the peer of row (h): Apache httpd with mod_auth_openidc (code flow + PKCE as the same
// confidential `bff` client, session in its shared-memory cache) and mod_proxy in front of the
// same API process as row (b), the access token attached as a bearer token. Debian's packages
// apache2 and libapache2-mod-auth-openidc are installed by the bench when it runs as root;
// otherwise the row is n/a with the reason.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEMO_USER, BFF_CLIENT_ID, type Idp } from '../lib/idp.ts';
import { makeTempDir, readCpuSeconds, readRssBytes, removeTempDir, type ServerProcess } from '../lib/children.ts';
import { listensOn, onFreshPorts, PortTakenError } from '../../scripts/ports.ts';
import { runHttpLoad } from '../lib/load.ts';
import { firstLine, unavailableRow, type Row } from '../lib/rows.ts';
import { USER_ONE_BODY, USER_ONE_PATH } from '../servers/route.ts';
import { followIdpRedirects, submitLogin, userAgent, DEV_BFF_SECRET, API_AUDIENCE, SPA_SCOPE } from '../../tests/support/oidc-rp.ts';

const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';
const PACKAGES = ['apache2', 'libapache2-mod-auth-openidc'];
const SESSION_COOKIE = 'mod_auth_openidc_session';
export const APACHE_ROW = '(i) Apache httpd + mod_auth_openidc + mod_proxy → our API';
/** Where mod_auth_openidc receives the code; registered at the IdP as a redirect URI of the bff client. */
export const APACHE_REDIRECT_PATH = '/oidc/redirect_uri';

/** Installs the packages when missing and running as root; answers why the row cannot run, if it cannot. */
export function ensureApache(log: (line: string) => void, install = true): string | undefined {
  if (existsSync(APACHE) && existsSync(join(MODULES, 'mod_auth_openidc.so'))) return undefined;
  if (!install) return `${PACKAGES.join(' and ')} are not installed and --no-install was given (apt-get install ${PACKAGES.join(' ')})`;
  if (process.getuid?.() !== 0) return `${PACKAGES.join(' and ')} are not installed and the bench is not running as root to install them (apt-get install ${PACKAGES.join(' ')})`;
  log(`installing ${PACKAGES.join(' ')} with apt-get`);
  // policy-rc.d in the image, or none: either way the service is not what the bench runs.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let result = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...PACKAGES], { env, encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) {
    spawnSync('apt-get', ['update'], { env, timeout: 120_000 });
    result = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...PACKAGES], { env, encoding: 'utf8', timeout: 300_000 });
  }
  if (result.status !== 0) return `apt-get install ${PACKAGES.join(' ')} failed: ${firstLine(result.stderr || result.error)}`;
  return existsSync(APACHE) ? undefined : `${APACHE} is still missing after apt-get install`;
}

function apacheConfig(o: { dir: string; port: number; issuer: string; apiPort: number }): string {
  const load = (name: string, file: string) => `LoadModule ${name} ${MODULES}/${file}`;
  return `ServerRoot ${o.dir}
ServerName localhost
Listen 127.0.0.1:${o.port}
PidFile ${o.dir}/httpd.pid
ErrorLog ${o.dir}/error.log
LogLevel warn
${load('mpm_event_module', 'mod_mpm_event.so')}
${load('authz_core_module', 'mod_authz_core.so')}
${load('authz_user_module', 'mod_authz_user.so')}
${load('authn_core_module', 'mod_authn_core.so')}
${load('headers_module', 'mod_headers.so')}
${load('proxy_module', 'mod_proxy.so')}
${load('proxy_http_module', 'mod_proxy_http.so')}
${load('auth_openidc_module', 'mod_auth_openidc.so')}
# As many threads as the load has connections, two processes (the machine's cores).
StartServers 2
ServerLimit 2
ThreadsPerChild 16
MaxRequestWorkers 32
KeepAlive On
MaxKeepAliveRequests 0

OIDCProviderMetadataURL ${o.issuer}/.well-known/openid-configuration
OIDCClientID ${BFF_CLIENT_ID}
OIDCClientSecret ${DEV_BFF_SECRET}
OIDCProviderTokenEndpointAuth client_secret_basic
OIDCRedirectURI http://localhost:${o.port}${APACHE_REDIRECT_PATH}
OIDCCryptoPassphrase ${randomBytes(32).toString('base64url')}
OIDCScope "${SPA_SCOPE}"
OIDCAuthRequestParams audience=${encodeURIComponent(API_AUDIENCE)}
OIDCPKCEMethod S256
OIDCSessionType server-cache
OIDCCacheType shm
OIDCPassClaimsAs environment
OIDCUnAuthAction 401 "%{REQUEST_URI} =~ m#^/api/#"

<Location />
  AuthType openid-connect
  Require valid-user
</Location>
<Location /api/>
  RequestHeader set Authorization "Bearer %{OIDC_access_token}e"
  ProxyPass http://127.0.0.1:${o.apiPort}/api/
</Location>
`;
}

export interface ApacheRowOptions {
  idp: Idp;
  /**
   * Registered at the IdP (http://localhost:port/oidc/redirect_uri for the bff client): Apache
   * listens on the first one no other process took first.
   */
  ports: readonly number[];
  ourApi: ServerProcess | undefined;
  connections: number;
  /** Run apt-get when the packages are missing and the bench runs as root (false: the row is n/a). */
  install?: boolean;
}

export async function setupApacheRow(opts: ApacheRowOptions, log: (line: string) => void): Promise<{ row: Row; stop(): Promise<void> }> {
  const unavailable = (reason: string) => ({ row: unavailableRow('i', 'api', APACHE_ROW, reason), stop: async () => {} });
  if (!opts.ourApi) return unavailable('row (b)\'s API did not run, so Apache has no upstream');
  const ourApi = opts.ourApi;
  const missing = ensureApache(log, opts.install);
  if (missing) return unavailable(missing);
  // On the first of the ports registered at the IdP that no other process took first.
  const left = [...opts.ports];
  let started: { server: ServerProcess; stop(): Promise<void> };
  try {
    started = await onFreshPorts(1, ([port]) => startApache(port!, opts.idp.issuer, ourApi.port), opts.ports.length, async () => left.shift()!);
  } catch (err) {
    return unavailable(`did not start: ${firstLine(err)}`);
  }
  const { server, stop } = started;
  try {
    const cookie = await apacheLogin(server.url, opts.idp.issuer);
    const url = `${server.url}${USER_ONE_PATH}`;
    const ok = await fetch(url, { headers: { cookie } });
    const body = await ok.text();
    if (ok.status !== 200 || body !== JSON.stringify(USER_ONE_BODY)) throw new Error(`answered ${ok.status} ${body.slice(0, 120)} with a session`);
    return { row: { id: 'i', group: 'api', label: APACHE_ROW, server, measure: (seconds) => runHttpLoad({ url, connections: opts.connections, seconds, headers: { cookie } }) }, stop };
  } catch (err) {
    await stop();
    return unavailable(`failed its correctness check: ${firstLine(err)}`);
  }
}

/**
 * Apache on `port`, answering 401 there from its own process. PortTakenError when another process
 * had taken the port (Apache exits, unable to bind it); an Error saying why it is not up otherwise.
 */
async function startApache(port: number, issuer: string, apiPort: number): Promise<{ server: ServerProcess; stop(): Promise<void> }> {
  const dir = makeTempDir('bench-apache-');
  const conf = join(dir, 'httpd.conf');
  writeFileSync(conf, apacheConfig({ dir, port, issuer, apiPort }));
  const check = spawnSync(APACHE, ['-t', '-f', conf], { encoding: 'utf8' });
  if (check.status !== 0) {
    removeTempDir(dir);
    throw new Error(`its configuration was refused: ${firstLine(check.stderr)}`);
  }
  // Foreground, so that the bench owns the process (and its children) and kills it at the end.
  const child: ChildProcess = spawn(APACHE, ['-DFOREGROUND', '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  // What Apache says before its error log is open (a port already taken, a bad directive).
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-2000); });
  // Its stderr read to the end ('close', not 'exit'); bounded, as its worker processes share the pipe.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const outputRead = () => Promise.race([closed, sleep(10_000, undefined, { ref: false })]);
  const errorLog = () => (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '');
  const lastWords = () => firstLine(`${errorLog()}\n${stderr}`.trim().split('\n').at(-1)) || 'nothing in its error log';
  const base = `http://localhost:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    removeTempDir(dir);
  };
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null || child.signalCode !== null) {
        await outputRead();
        const why = `exited with ${child.exitCode ?? child.signalCode}: ${lastWords()}`;
        throw /Address already in use/.test(`${errorLog()}\n${stderr}`) ? new PortTakenError(`Apache: port ${port} taken by another process: ${why}`) : new Error(why);
      }
      // Its own answer: another process's server on the port must not be taken for Apache.
      const res = await fetch(`${base}${USER_ONE_PATH}`).catch(() => undefined);
      await res?.body?.cancel();
      if (res?.status === 401 && listensOn(child.pid!, port) !== false) break;
      if (i > 100) throw new Error('did not answer within 10 s');
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const server: ServerProcess = {
    name: 'Apache httpd + mod_auth_openidc', url: base, port, pid: child.pid!,
    // The parent and its worker processes: every process of the group counts.
    rssBytes: () => processTree(child.pid!).reduce((s, pid) => s + (readRssBytes(pid) ?? 0), 0),
    cpuSeconds: () => processTree(child.pid!).reduce((s, pid) => s + (readCpuSeconds(pid) ?? 0), 0),
    tail: () => (errorLog() || stderr).split('\n').slice(-20).join('\n'),
    stop,
  };
  return { server, stop };
}

/** The process and its children (Apache's worker processes), from /proc. */
function processTree(pid: number): number[] {
  const children = (() => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  })();
  return [pid, ...children.flatMap(processTree)];
}

/** Signs the demo user in through mod_auth_openidc; answers the Cookie header of its session. */
async function apacheLogin(base: string, issuer: string): Promise<string> {
  const ua = userAgent();
  const start = await ua.request(`${base}/`, { headers: { accept: 'text/html' } });
  const toIdp = start.headers.get('location');
  if (start.status !== 302 || !toIdp?.startsWith(issuer)) throw new Error(`/ answered ${start.status} ${toIdp ?? ''} instead of sending the browser to the IdP`);
  const page = await followIdpRedirects(ua, issuer, toIdp);
  const back = await submitLogin(ua, issuer, page, DEMO_USER.username, DEMO_USER.password);
  const callback = back.headers.get('location');
  if (!callback?.startsWith(`${base}${APACHE_REDIRECT_PATH}`)) throw new Error(`the IdP sent the browser to ${callback ?? 'nowhere'}`);
  const done = await ua.request(callback, { headers: { accept: 'text/html' } });
  const session = ua.jar.cookies.get(SESSION_COOKIE);
  if (!session) throw new Error(`the redirect URI answered ${done.status} without a session cookie`);
  return `${SESSION_COOKIE}=${session}`;
}
