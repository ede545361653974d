import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { csrfHeaderInterceptor } from './csrf-header-interceptor';

describe('csrfHeaderInterceptor', () => {
  it('adds X-CSRF: 1 to every same-origin call, relative or absolute, and to no other origin', () => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(withInterceptors([csrfHeaderInterceptor])), provideHttpClientTesting()] });
    const http = TestBed.inject(HttpClient);
    const backend = TestBed.inject(HttpTestingController);
    for (const url of ['/bff/user', '/api/notes', `${location.origin}/api/UserOne`]) {
      http.get(url).subscribe();
      expect(backend.expectOne(url).request.headers.get('X-CSRF'), url).toBe('1');
    }
    http.get('https://elsewhere.example/api').subscribe();
    expect(backend.expectOne('https://elsewhere.example/api').request.headers.has('X-CSRF')).toBe(false);
    backend.verify();
  });
});
