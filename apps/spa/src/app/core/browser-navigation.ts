import { DOCUMENT, inject, Injectable } from '@angular/core';

/** Full-page navigation (to the IdP and back), behind a class so tests can watch it. */
@Injectable({ providedIn: 'root' })
export class BrowserNavigation {
  private readonly document = inject(DOCUMENT);

  assign(url: string): void {
    this.document.location.assign(url);
  }

  reload(): void {
    this.document.location.reload();
  }
}
