import { Directive, inject, input } from '@angular/core';
import { PageRouter } from './page-router';

/**
 * A link to a page of the app: a plain link (a new tab, a copied address) that a plain click
 * follows in the app, without loading the page again.
 */
@Directive({
  selector: 'a[appPageLink]',
  host: { '[attr.href]': 'appPageLink()', '(click)': 'follow($event)' },
})
export class PageLink {
  readonly appPageLink = input.required<string>();
  private readonly router = inject(PageRouter);

  protected follow(event: MouseEvent): void {
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || event.defaultPrevented) return;
    event.preventDefault();
    this.router.navigate(this.appPageLink());
  }
}
