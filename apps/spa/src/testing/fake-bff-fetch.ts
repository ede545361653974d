/** One request BffHttp sent through the fake fetch, waiting for the test to answer it. */
export interface FakeCall {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly body: unknown;
  readonly credentials: RequestCredentials | undefined;
  respond(body: unknown, status?: number): void;
  /** Fails on the network, as fetch does when there is no answer. */
  fail(): void;
}

/** A stand-in for the browser's fetch, for BFF_FETCH in specs: the test answers each request. */
export class FakeBffFetch {
  private readonly calls: FakeCall[] = [];

  readonly fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
    new Promise<Response>((resolve, reject) => {
      this.calls.push({
        method: init?.method ?? 'GET',
        url: String(input),
        headers: new Headers(init?.headers),
        body: typeof init?.body === 'string' ? JSON.parse(init.body) : init?.body,
        credentials: init?.credentials,
        respond: (body, status = 200) =>
          resolve(new Response(body === null ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })),
        fail: () => reject(new TypeError('Failed to fetch')),
      });
    })) as typeof fetch;

  /**
   * The one request sent (so far) with this method and URL, removed from the list. The calls
   * leave a few promise turns after the code asking for them; turns are flushed, no time passes.
   */
  async expectOne(method: string, url: string): Promise<FakeCall> {
    for (let turn = 0; turn < 50 && !this.calls.some((c) => c.method === method && c.url === url); turn++) await Promise.resolve();
    const matching = this.calls.filter((c) => c.method === method && c.url === url);
    if (matching.length !== 1) throw new Error(`expected one ${method} ${url}, found ${matching.length} (sent: ${this.describe()})`);
    this.calls.splice(this.calls.indexOf(matching[0]!), 1);
    return matching[0]!;
  }

  /** Fails when any request is still unanswered (after flushing the pending promise turns). */
  async expectNothingPending(): Promise<void> {
    for (let turn = 0; turn < 50; turn++) await Promise.resolve();
    if (this.calls.length > 0) throw new Error(`unexpected requests: ${this.describe()}`);
  }

  private describe(): string {
    return this.calls.map((c) => `${c.method} ${c.url}`).join(', ') || 'none';
  }
}
