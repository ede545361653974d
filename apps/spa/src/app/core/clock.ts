import { DestroyRef, inject, Injectable, signal } from '@angular/core';

/** The current time as a signal ticking every second, for countdowns. */
@Injectable({ providedIn: 'root' })
export class Clock {
  private readonly current = signal(Date.now());
  readonly now = this.current.asReadonly();

  constructor() {
    const timer = setInterval(() => this.current.set(Date.now()), 1000);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
  }
}

/** "4:05" for 245 s; "0:00" once past. */
export function formatCountdown(milliseconds: number): string {
  const total = Math.max(0, Math.floor(milliseconds / 1000));
  const minutes = Math.floor(total / 60);
  return `${minutes}:${String(total % 60).padStart(2, '0')}`;
}

export function formatTime(epochMs: number | null | undefined): string {
  return epochMs == null ? '—' : new Date(epochMs).toLocaleTimeString();
}
