import { InjectionToken } from '@angular/core';
import type { Observable } from 'rxjs';

/** Where the access-token interceptor gets the current access token ('' when there is none). */
export interface AccessTokenSource {
  accessToken(): Observable<string>;
}

export const ACCESS_TOKEN_SOURCE = new InjectionToken<AccessTokenSource>('ACCESS_TOKEN_SOURCE');
