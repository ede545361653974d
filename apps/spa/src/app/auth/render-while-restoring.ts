import { InjectionToken } from '@angular/core';

/**
 * Provided as true by a mode whose start-up needs nothing of the session before the app renders
 * (BFF mode): the app then bootstraps, navigates and renders while AuthSession.initialize() runs,
 * so that only the session's and the page's data are left to render when their answers arrive.
 * Absent (token mode): the first render waits for initialize(), which handles the IdP's callback;
 * on a return from the IdP that is main-thread work with the token response already in hand,
 * and rendering first would only delay the page's API call.
 */
export const RENDER_WHILE_RESTORING = new InjectionToken<boolean>('RENDER_WHILE_RESTORING');
