import { InjectionToken } from '@angular/core';

/**
 * Provided as true by a mode whose start-up needs nothing of the session before the app renders
 * (BFF mode): the app then bootstraps, navigates and renders while AuthSession.initialize() runs,
 * so that only the session's and the page's data are left to render when their answers arrive.
 * Absent (token mode): the first render waits for initialize(), which handles the IdP's callback
 * (the library checks the tokens and takes the code out of the URL).
 */
export const RENDER_WHILE_RESTORING = new InjectionToken<boolean>('RENDER_WHILE_RESTORING');
