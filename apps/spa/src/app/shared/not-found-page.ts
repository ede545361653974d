import { ChangeDetectionStrategy, Component } from '@angular/core';
import { PageLink } from '../routing/page-link';

@Component({
  selector: 'app-not-found-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [PageLink],
  template: `
    <h1>Page not found</h1>
    <p>There is no page at this address. <a appPageLink="/">Go to the home page</a>.</p>
  `,
})
export class NotFoundPage {}
