// A clock that moves only when a test says so. `sleep` returns at once and records what was asked:
// tests assert the delays a component wanted, and move time with `advance`.
export class ManualClock {
  #now: number;
  readonly sleeps: number[] = [];

  constructor(start = Date.now()) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
  }

  advance(ms: number): void {
    this.#now += ms;
  }

  advanceSeconds(seconds: number): void {
    this.advance(seconds * 1000);
  }
}
