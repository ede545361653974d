import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { formatTime } from '../core/clock';

interface Marker {
  readonly key: string;
  readonly label: string;
  readonly at: number;
  readonly percent: number;
}

/** The access token's life drawn as a bar: issued, renewal, expiry, and where "now" is. */
@Component({
  selector: 'app-session-timeline',
  changeDetection: ChangeDetectionStrategy.OnPush,
  templateUrl: './session-timeline.html',
  styleUrl: './session-timeline.css',
})
export class SessionTimeline {
  readonly issuedAt = input.required<number>();
  readonly expiresAt = input.required<number>();
  readonly renewsAt = input<number | null>(null);
  readonly lastRenewalAt = input<number | null>(null);
  readonly now = input.required<number>();

  private readonly span = computed(() => Math.max(1, this.expiresAt() - this.issuedAt()));
  protected readonly elapsedPercent = computed(() => this.percentOf(this.now()));
  protected readonly markers = computed<Marker[]>(() => {
    const markers: Marker[] = [{ key: 'issued', label: 'Issued', at: this.issuedAt(), percent: 0 }];
    const renewsAt = this.renewsAt();
    if (renewsAt !== null) markers.push({ key: 'renew', label: 'Renews', at: renewsAt, percent: this.percentOf(renewsAt) });
    markers.push({ key: 'expiry', label: 'Expires', at: this.expiresAt(), percent: 100 });
    return markers;
  });
  protected readonly description = computed(
    () => `Access token issued at ${formatTime(this.issuedAt())}, renews at ${formatTime(this.renewsAt())}, expires at ${formatTime(this.expiresAt())}.`,
  );
  protected readonly formatTime = formatTime;

  private percentOf(at: number): number {
    return Math.min(100, Math.max(0, ((at - this.issuedAt()) / this.span()) * 100));
  }
}
