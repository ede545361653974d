import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError, commandUsage, ConfigError, readArguments, bool, int, list, loadConfig, localUrlOfPort, oneOf, origin, port, redisUrl, secretItem, str, url } from '../src/index.ts';

const schema = {
  PORT: port({ doc: 'port', default: '4400' }),
  ISSUER: url({ doc: 'issuer' }),
  MODE: oneOf(['dev', 'prod'] as const, { doc: 'profile', default: 'dev' }),
  FLAG: bool({ doc: 'flag', default: 'false' }),
  TTL: int({ doc: 'ttl', default: '300', min: 1, max: 3600 }),
  ORIGINS: list(origin, { doc: 'origins', what: 'origins', default: 'http://localhost:4200' }),
  SECRET: str({ doc: 'secret', minLength: 8, secret: true, default: 'dev-secret-value' }),
};

test('defaults fill what the environment leaves out, with types', () => {
  const cfg = loadConfig(schema, { ISSUER: 'http://localhost:4400' });
  assert.deepEqual(cfg, {
    PORT: 4400, ISSUER: 'http://localhost:4400', MODE: 'dev', FLAG: false, TTL: 300,
    ORIGINS: ['http://localhost:4200'], SECRET: 'dev-secret-value',
  });
});

test('every bad value is reported at once, naming the variable and what was expected', () => {
  let err: unknown;
  try {
    loadConfig(schema, { PORT: '70000', MODE: 'staging', FLAG: 'yes', TTL: '1.5', ORIGINS: 'http://a.test/path', SECRET: 'short' });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ConfigError);
  const text = err.problems.join('\n');
  assert.match(text, /PORT="70000" is invalid.*integer from 0 to 65535/);
  assert.match(text, /ISSUER is required/);
  assert.match(text, /MODE="staging" is invalid.*one of dev, prod/);
  assert.match(text, /FLAG="yes" is invalid.*true or false/);
  assert.match(text, /TTL="1.5" is invalid/);
  assert.match(text, /ORIGINS=.*is invalid.*origin/);
  assert.match(text, /SECRET=\(hidden\) is invalid/);
  assert.doesNotMatch(text, /short/);
  assert.equal(err.problems.length, 7);
});

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  assert.fail('expected a ConfigError');
}

test('a value with white space around it, only white space, or a control character is refused whatever its type, a secret unquoted', () => {
  const given = { ISSUER: 'http://localhost:4400', PORT: ' 4400', MODE: 'dev\n', FLAG: '\ttrue', TTL: '   ', ORIGINS: 'http://a.test\r\n', SECRET: 'dev-secret-value\n' };
  const text = problemsOf(() => loadConfig(schema, given)).join('\n');
  assert.match(text, /PORT=" 4400" is invalid: white space or a line break around it; expected an integer/);
  assert.match(text, /MODE="dev\\n" is invalid: white space/);
  assert.match(text, /FLAG="\\ttrue" is invalid: white space/);
  assert.match(text, /TTL="   " is invalid: only white space/);
  assert.match(text, /ORIGINS=.* is invalid: white space/);
  assert.match(text, /SECRET=\(hidden\) is invalid: white space or a line break around it/);
  assert.doesNotMatch(text, /dev-secret-value/);
  const inside = problemsOf(() => loadConfig({ NAME: str({ doc: 'name' }) }, { NAME: 'a\u0000b' })).join('\n');
  assert.match(inside, /NAME=.* is invalid: a control character/);
  assert.deepEqual(loadConfig({ NAME: str({ doc: 'name' }) }, { NAME: 'inner spaces are fine' }), { NAME: 'inner spaces are fine' });
});

test('http URLs refuse credentials, a query and a fragment; an origin also refuses a path', () => {
  const s = { BASE: url({ doc: 'base' }), ORIGIN: url({ doc: 'origin', origin: true }) };
  for (const [value, why] of [['http://user:pw@a.test', 'has credentials'], ['http://a.test/?x=1', 'has a query'], ['http://a.test/?', 'has a query'], ['http://a.test/#top', 'has a fragment'], ['ftp://a.test', 'not http or https']]) {
    assert.match(problemsOf(() => loadConfig(s, { BASE: value, ORIGIN: 'http://a.test' })).join(), new RegExp(`BASE=.* is invalid: ${why}`), value);
    assert.match(problemsOf(() => loadConfig(s, { BASE: 'http://a.test', ORIGIN: value })).join(), new RegExp(`ORIGIN=.* is invalid: ${why}`), value);
  }
  assert.match(problemsOf(() => loadConfig(s, { BASE: 'http://a.test', ORIGIN: 'https://a.test/app' })).join(), /ORIGIN=.* is invalid: has a path; expected an http:\/\/ or https:\/\/ origin/);
  assert.deepEqual(loadConfig(s, { BASE: 'https://a.test/tenant/', ORIGIN: 'https://a.test/' }), { BASE: 'https://a.test/tenant/', ORIGIN: 'https://a.test/' });
});

test('a Redis URL takes a password and a database number only, and its password is never shown', () => {
  const s = { REDIS: redisUrl({ doc: 'redis' }) };
  assert.deepEqual(loadConfig(s, { REDIS: 'rediss://:pw@redis.test:6380/2' }), { REDIS: 'rediss://:pw@redis.test:6380/2' });
  for (const [value, why] of [['redis://:s3cret-pw@redis.test:6379/db0', 'its path is not a database number'], ['redis://:s3cret-pw@redis.test/0#x', 'has a fragment'], ['http://:s3cret-pw@redis.test/0', 'not redis or rediss']]) {
    const text = problemsOf(() => loadConfig(s, { REDIS: value })).join();
    assert.match(text, new RegExp(`REDIS=.* is invalid: ${why}`), value);
    assert.match(text, /:\*\*\*@redis\.test/);
    assert.doesNotMatch(text, /s3cret-pw/);
  }
});

test('a credential in a URL is never shown, whatever makes the value invalid: a password a parser cannot read, or reads as a port or a path, a token as the user part, a query or a fragment', () => {
  const s = { REDIS: redisUrl({ doc: 'redis', default: 'redis://127.0.0.1:6379/0' }), BASE: url({ doc: 'base', default: 'http://a.test' }), ORIGINS: list(origin, { doc: 'origins', what: 'origins', default: 'http://a.test' }) };
  const cases: Array<[string, string, RegExp]> = [
    // A password with an unescaped #, / or ? makes the URL unparseable (its port would be "p").
    ['REDIS', 'redis://:p#canary-1@redis.test:6379/0', /REDIS="redis:\/\/:\*\*\*@redis\.test:6379\/0" is invalid: not a URL/],
    ['REDIS', 'redis://user:p/canary-2@redis.test:6379/0', /REDIS="redis:\/\/user:\*\*\*@redis\.test:6379\/0" is invalid: not a URL/],
    ['REDIS', 'redis://:p?canary-3@redis.test:6379/0', /REDIS="redis:\/\/:\*\*\*@redis\.test:6379\/0" is invalid: not a URL/],
    // An all-digit password before a /: parsed as host "user", port 1234 and a path.
    ['REDIS', 'redis://user:1234/canary-4@redis.test:6379/0', /REDIS="redis:\/\/user:\*\*\*@redis\.test:6379\/0" is invalid: its path is not a database number/],
    ['REDIS', 'redis://redis.test:6379/x?password=canary-5', /REDIS="redis:\/\/redis\.test:6379\/x\?password=\*\*\*" is invalid/],
    ['BASE', 'http://user:canary-6@a.test:99999/', /BASE="http:\/\/user:\*\*\*@a\.test:99999\/" is invalid: not a URL/],
    ['BASE', 'https://canary-7@a.test/', /BASE="https:\/\/\*\*\*@a\.test\/" is invalid: has credentials/],
    ['BASE', 'https://a.test/?access_token=canary-8', /BASE="https:\/\/a\.test\/\?access_token=\*\*\*" is invalid: has a query/],
    ['BASE', 'https://a.test/#canary-9', /BASE="https:\/\/a\.test\/#\*\*\*" is invalid: has a fragment/],
    ['ORIGINS', 'http://a.test,http://u:canary-10@b.test:99999', /ORIGINS="http:\/\/a\.test,http:\/\/u:\*\*\*@b\.test:99999" is invalid: "http:\/\/u:\*\*\*@b\.test:99999" is not valid/],
  ];
  for (const [name, value, shown] of cases) {
    const text = problemsOf(() => loadConfig(s, { [name]: value })).join();
    assert.match(text, shown, value);
    assert.doesNotMatch(text, /canary/, value);
  }
});

test('a list refuses an empty item and an item given twice; a secret list numbers its items instead of quoting them', () => {
  for (const [value, why] of [['http://a.test,,http://b.test', 'item 2 is empty'], ['http://a.test,', 'item 2 is empty'], [',http://a.test', 'item 1 is empty'], ['http://a.test,http://a.test/', '"http://a.test/" repeats "http://a.test"']]) {
    assert.match(problemsOf(() => loadConfig(schema, { ISSUER: 'http://a.test', ORIGINS: value })).join(), new RegExp(`ORIGINS=.* is invalid: ${why!.replace(/[/.]/g, '\\$&')}`), value);
  }
  const keys = { KEYS: list(secretItem(8), { doc: 'keys', what: 'keys', secret: true }) };
  assert.deepEqual(loadConfig(keys, { KEYS: 'long-key-1, long-key-2' }), { KEYS: ['long-key-1', 'long-key-2'] });
  const text = problemsOf(() => loadConfig(keys, { KEYS: 'long-key-1,tiny' })).join() + problemsOf(() => loadConfig(keys, { KEYS: 'long-key-1,long-key-1' })).join();
  assert.match(text, /KEYS=\(hidden\) is invalid: item 2 is not valid \(shorter than 8 characters\)/);
  assert.match(text, /KEYS=\(hidden\) is invalid: item 2 repeats item 1/);
  assert.doesNotMatch(text, /tiny|long-key/);
});

test('a variable with the app\'s prefix that the schema does not name is refused, with the name it resembles', () => {
  const s = { APP_PROFILE: oneOf(['dev', 'prod'] as const, { doc: 'profile', default: 'dev' }), APP_TTL: int({ doc: 'ttl', default: '5' }) };
  const options = { prefixes: ['APP_', 'X_'], alsoKnown: ['APP_EXTRA_SECRET'] };
  const text = problemsOf(() => loadConfig(s, { APP_PROFLE: 'prod', X_UNRELATED: '1', APP_EXTRA_SECRET: 'kept', OTHER_PROFLE: 'x' }, options)).join('\n');
  assert.match(text, /APP_PROFLE is not a setting of this app \(did you mean APP_PROFILE\?\)/);
  assert.match(text, /X_UNRELATED is not a setting of this app: correct or remove it/);
  assert.doesNotMatch(text, /APP_EXTRA_SECRET|OTHER_PROFLE/);
  assert.deepEqual(loadConfig(s, { OTHER_PROFLE: 'x' }, options), { APP_PROFILE: 'dev', APP_TTL: 5 });
});

test('Kubernetes service links: the variables of a Service named like a prefix are not settings; one that collides with a setting is refused, naming the cure', () => {
  const s = { APP_PORT: port({ doc: 'port', default: '4400' }), APP_TTL: int({ doc: 'ttl', default: '5' }) };
  const options = { prefixes: ['APP_', 'X_'] };
  // What a pod gets for Services named "x" and "app-admin" (port 8080): none of them a setting of this app.
  const links = {
    X_SERVICE_HOST: '10.96.0.7', X_SERVICE_PORT: '8080', X_SERVICE_PORT_HTTP: '8080', X_PORT: 'tcp://10.96.0.7:8080',
    X_PORT_8080_TCP: 'tcp://10.96.0.7:8080', X_PORT_8080_TCP_PROTO: 'tcp', X_PORT_8080_TCP_PORT: '8080', X_PORT_8080_TCP_ADDR: '10.96.0.7',
    APP_ADMIN_SERVICE_HOST: 'fd00::7', APP_ADMIN_PORT: 'tcp://[fd00::7]:8080', APP_ADMIN_PORT_8080_UDP_ADDR: 'fd00::7',
  };
  assert.deepEqual(loadConfig(s, links, options), { APP_PORT: 4400, APP_TTL: 5 });
  // A Service named "app" sets APP_PORT, which is a setting: refused, with the Service named and the cure.
  const text = problemsOf(() => loadConfig(s, { ...links, APP_PORT: 'tcp://10.96.0.9:4400', APP_SERVICE_HOST: '10.96.0.9' }, options)).join('\n');
  assert.match(text, /APP_PORT="tcp:\/\/10\.96\.0\.9:4400" is invalid.*Kubernetes sets for a Service named "app" \(a service link\).*enableServiceLinks: false/);
  assert.doesNotMatch(text, /APP_SERVICE_HOST|X_/, 'the other link variables are not reported');
  // Only Kubernetes' own shapes are passed over: a mistyped name, or a _PORT with another value, is still refused.
  const typos = problemsOf(() => loadConfig(s, { APP_TTLL: '3', X_PORT: '8080', X_SERVICE_HOSTS: 'a', APP_PORT_80_HTTP: 'tcp' }, options)).join('\n');
  for (const name of ['APP_TTLL', 'X_PORT', 'X_SERVICE_HOSTS', 'APP_PORT_80_HTTP']) assert.match(typos, new RegExp(`${name} is not a setting of this app`));
  assert.doesNotMatch(typos, /Kubernetes/);
});

test('a URL defaulting to http://localhost:PORT is required when the port is 0', () => {
  assert.equal(localUrlOfPort(4400, 'APP_PORT', 'APP_URL'), 'http://localhost:4400');
  assert.match(problemsOf(() => localUrlOfPort(0, 'APP_PORT', 'APP_URL')).join(), /APP_PORT=0 \(any free port\) needs APP_URL/);
});

describe('readArguments: a command takes the options it names and nothing else', () => {
  const options = { now: { type: 'boolean', doc: 'at once' }, verify: { type: 'string', doc: 'check', value: 'USERNAME' } } as const;
  const refused = (args: string[], message: RegExp) => assert.throws(() => readArguments(options, args), (err: Error) => err instanceof ArgumentError && message.test(err.message));

  test('the options it names, a string option in either spelling', () => {
    assert.deepEqual(readArguments(options, []), { help: false, values: {} });
    assert.deepEqual(readArguments(options, ['--now', '--verify', 'alice']), { help: false, values: { now: true, verify: 'alice' } });
    assert.deepEqual(readArguments(options, ['--verify=alice']).values, { verify: 'alice' });
    assert.equal(readArguments(options, ['--help']).help, true);
  });

  test('a misspelt option is refused, naming the one meant; an unknown one, a value given to a switch, a missing value, an option twice', () => {
    refused(['--nwo'], /^unknown option --nwo \(did you mean --now\?\)$/);
    refused(['--port', '4401'], /^unknown option --port$/);
    refused(['--now=false'], /^--now takes no value$/);
    refused(['--verify'], /^--verify needs a value$/);
    refused(['--verify', '--now'], /^--verify needs a value$/);
    refused(['--now', '--now'], /^--now given twice$/);
    refused(['-n'], /^unexpected argument #1/);
  });

  test('a stray word is refused without repeating it: it may be a password', () => {
    assert.throws(() => readArguments(options, ['--now', 'hunter2']), (err: Error) => err instanceof ArgumentError && /^unexpected argument #2 \(not shown/.test(err.message) && !err.message.includes('hunter2'));
    assert.throws(() => readArguments({}, ['x']), /this command takes no arguments/);
  });

  test('the usage names each option and its value', () => {
    assert.equal(commandUsage('tool [-- --now]', 'Does it.', options), 'usage: tool [-- --now]\n\nDoes it.\n\noptions:\n  --now  at once\n  --verify USERNAME  check');
  });
});
