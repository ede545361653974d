// Which names the library uses for its entries is checked against the real library in
// library-internals.spec.ts; this spec checks how the storage splits and shares them.
import { PER_TAB_ENTRIES } from './library-internals';
import { SplitSecurityStorage, STORAGE_PREFIX } from './split-security-storage';

class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  writes = 0;
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.writes++;
    this.items.set(key, value);
  }
}

describe('SplitSecurityStorage', () => {
  let shared: MemoryStorage;
  let tabA: MemoryStorage;
  let tabB: MemoryStorage;
  let a: SplitSecurityStorage;
  let b: SplitSecurityStorage;

  beforeEach(() => {
    shared = new MemoryStorage();
    tabA = new MemoryStorage();
    tabB = new MemoryStorage();
    a = SplitSecurityStorage.over(shared, tabA);
    b = SplitSecurityStorage.over(shared, tabB);
  });

  it('shares the session between tabs and keeps flow state per tab', () => {
    a.write('spa', JSON.stringify({ authnResult: { refresh_token: 'rt1' }, codeVerifier: 'verifier-a', storageSilentRenewRunning: 'running' }));
    expect(JSON.parse(b.read('spa')!)).toEqual({ authnResult: { refresh_token: 'rt1' } });
    expect(JSON.parse(a.read('spa')!)).toEqual({ authnResult: { refresh_token: 'rt1' }, codeVerifier: 'verifier-a', storageSilentRenewRunning: 'running' });
    expect(JSON.parse(tabA.getItem(STORAGE_PREFIX + 'spa')!)).toEqual({ codeVerifier: 'verifier-a', storageSilentRenewRunning: 'running' });
  });

  it('dropPerTab removes the named entries of this tab only, and the tab\'s key once nothing is left', () => {
    a.write('spa', JSON.stringify({ authnResult: { refresh_token: 'rt1' }, codeVerifier: 'v', authStateControl: 's', storageSilentRenewRunning: 'running' }));
    b.write('spa', JSON.stringify({ authnResult: { refresh_token: 'rt1' }, codeVerifier: 'other tab' }));
    a.dropPerTab('spa', ['codeVerifier', 'authStateControl']);
    expect(JSON.parse(a.read('spa')!)).toEqual({ authnResult: { refresh_token: 'rt1' }, storageSilentRenewRunning: 'running' });
    expect(JSON.parse(b.read('spa')!)).toEqual({ authnResult: { refresh_token: 'rt1' }, codeVerifier: 'other tab' });
    a.dropPerTab('spa', ['storageSilentRenewRunning']);
    expect(tabA.getItem(STORAGE_PREFIX + 'spa')).toBeNull();
    expect(JSON.parse(a.read('spa')!)).toEqual({ authnResult: { refresh_token: 'rt1' } });
  });

  it('a flag reset to the empty string after a logout leaves nothing in either storage', () => {
    a.write('spa', JSON.stringify({ authnResult: { refresh_token: 'rt1' }, storageSilentRenewRunning: 'running' }));
    a.clear();
    a.write('spa', JSON.stringify({ storageSilentRenewRunning: '' }));
    expect(shared.length + tabA.length).toBe(0);
    expect(a.read('spa')).toBeNull();
  });

  it('a tab that only changes its own flags does not rewrite the shared session', () => {
    a.write('spa', JSON.stringify({ authnResult: { refresh_token: 'rt1' } }));
    const writes = shared.writes;
    b.write('spa', JSON.stringify({ ...JSON.parse(b.read('spa')!), storageSilentRenewRunning: 'running' }));
    expect(shared.writes).toBe(writes);
  });

  it('a rotation in one tab is what the other tab reads next', () => {
    a.write('spa', JSON.stringify({ authnResult: { refresh_token: 'rt1' } }));
    const seenByB = JSON.parse(b.read('spa')!);
    a.write('spa', JSON.stringify({ authnResult: { refresh_token: 'rt2' } }));
    expect(seenByB.authnResult.refresh_token).toBe('rt1');
    expect(JSON.parse(b.read('spa')!).authnResult.refresh_token).toBe('rt2');
  });

  it('clear removes our entries and nothing else', () => {
    shared.setItem('someone-else', 'keep');
    a.write('spa', JSON.stringify({ authnResult: {}, authNonce: 'n' }));
    a.clear();
    expect(shared.getItem(STORAGE_PREFIX + 'spa')).toBeNull();
    expect(tabA.getItem(STORAGE_PREFIX + 'spa')).toBeNull();
    expect(shared.getItem('someone-else')).toBe('keep');
    expect(a.read('spa')).toBeNull();
  });

  it('puts every per-tab entry in the tab\'s storage and everything else in the shared one', () => {
    const flow = Object.fromEntries([...PER_TAB_ENTRIES].map((name) => [name, `value of ${name}`]));
    a.write('spa', JSON.stringify({ ...flow, authnResult: { refresh_token: 'rt1' } }));
    expect(JSON.parse(tabA.getItem(STORAGE_PREFIX + 'spa')!)).toEqual(flow);
    expect(JSON.parse(shared.getItem(STORAGE_PREFIX + 'spa')!)).toEqual({ authnResult: { refresh_token: 'rt1' } });
    expect(JSON.parse(b.read('spa')!)).toEqual({ authnResult: { refresh_token: 'rt1' } });
  });

  it('tells whether anything of a configuration is stored, in either part', () => {
    expect(a.hasEntries('spa')).toBe(false);
    shared.setItem('unrelated', '{}');
    expect(a.hasEntries('spa')).toBe(false);
    a.write('spa', JSON.stringify({ codeVerifier: 'v' }));
    expect(a.hasEntries('spa')).toBe(true);
    expect(b.hasEntries('spa')).toBe(false);
    b.write('spa', JSON.stringify({ authnResult: { id_token: 'x' } }));
    expect(a.hasEntries('spa')).toBe(true);
    expect(b.hasEntries('spa')).toBe(true);
    a.remove('spa');
    expect(b.hasEntries('spa')).toBe(false);
  });

  it('reads again whatever changed in either storage since its last read or write, whoever changed it', () => {
    a.write('spa', JSON.stringify({ authnResult: { refresh_token: 'rt1' }, authNonce: 'n1' }));
    expect(JSON.parse(a.read('spa')!)).toEqual({ authnResult: { refresh_token: 'rt1' }, authNonce: 'n1' });
    shared.setItem(STORAGE_PREFIX + 'spa', JSON.stringify({ authnResult: { refresh_token: 'rt2' } }));
    expect(JSON.parse(a.read('spa')!)).toEqual({ authnResult: { refresh_token: 'rt2' }, authNonce: 'n1' });
    tabA.setItem(STORAGE_PREFIX + 'spa', JSON.stringify({ authNonce: 'n2' }));
    expect(JSON.parse(a.read('spa')!)).toEqual({ authnResult: { refresh_token: 'rt2' }, authNonce: 'n2' });
    shared.removeItem(STORAGE_PREFIX + 'spa');
    tabA.removeItem(STORAGE_PREFIX + 'spa');
    expect(a.read('spa')).toBeNull();
    expect(a.read('other')).toBeNull();
  });

  it('treats garbage in storage as empty', () => {
    shared.setItem(STORAGE_PREFIX + 'spa', '{not json');
    expect(a.read('spa')).toBeNull();
  });
});
