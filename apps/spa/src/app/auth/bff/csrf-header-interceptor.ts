import type { HttpInterceptorFn } from '@angular/common/http';

/**
 * The BFF refuses every /bff/* and /api/* call without `X-CSRF: 1`. A page of another origin
 * cannot send that header to it (a custom header needs CORS, which the BFF never grants), so the
 * cookie alone never authorises a request. Only same-origin requests get it; the app makes no other.
 */
export const csrfHeaderInterceptor: HttpInterceptorFn = (request, next) =>
  next(isSameOrigin(request.url) ? request.clone({ setHeaders: { 'X-CSRF': '1' } }) : request);

function isSameOrigin(url: string): boolean {
  return new URL(url, location.href).origin === location.origin;
}
