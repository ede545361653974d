import { InjectionToken } from '@angular/core';

/**
 * Provided as true by a mode whose start-up needs nothing of the session before the app renders
 * (BFF mode): the app then bootstraps, navigates and renders while AuthSession.initialize() runs,
 * so that only the session's and the page's data are left to render when their answers arrive.
 * Absent: the first navigation waits for initialize() (token mode: the library removes the code
 * from the URL first, and the router's first navigation writes back the URL it started from).
 */
export const RENDER_WHILE_RESTORING = new InjectionToken<boolean>('RENDER_WHILE_RESTORING');
