import { ChangeDetectionStrategy, Component, DOCUMENT, effect, ErrorHandler, inject, input, untracked, ViewContainerRef, type Type } from '@angular/core';
import { PageRouter, type PageRoute } from './page-router';

/**
 * Shows the page of the current route, and names it in the document's title. A page in a chunk of
 * its own is shown once loaded; the page before it stays until then. When `pageKey` changes, the
 * page shown is made again (a fresh instance: nothing it loaded before stays).
 */
@Component({
  selector: 'app-page-outlet',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: '',
})
export class PageOutlet {
  private readonly container = inject(ViewContainerRef);
  private readonly document = inject(DOCUMENT);
  private readonly errors = inject(ErrorHandler);
  private shown: PageRoute | undefined;
  /** Whom the shown page belongs to; a new value makes it again. */
  readonly pageKey = input<unknown>(undefined);
  private shownKey: { value: unknown } | undefined;

  constructor() {
    const router = inject(PageRouter);
    effect(() => {
      const route = router.route();
      untracked(() => this.show(route));
    });
    effect(() => {
      const key = this.pageKey();
      untracked(() => {
        const changed = this.shownKey !== undefined && !Object.is(this.shownKey.value, key);
        this.shownKey = { value: key };
        if (changed) this.show(this.shown);
      });
    });
  }

  private show(route: PageRoute | undefined): void {
    this.shown = route;
    if (!route) return this.container.clear();
    if (route.component) return this.shownAs(route, route.component);
    route.loadComponent?.().then(
      (component) => {
        if (this.shown === route) this.shownAs(route, component);
      },
      (error: unknown) => this.errors.handleError(error),
    );
  }

  private shownAs(route: PageRoute, component: Type<unknown>): void {
    this.container.clear();
    this.container.createComponent(component);
    this.document.title = route.title;
  }
}
