import { InjectionToken } from '@angular/core';

/**
 * Provided as true by a mode whose start-up needs nothing of the session before the app renders
 * (BFF mode; token mode, which takes the code and state out of the address bar at start-up): the
 * app then bootstraps, navigates and renders while AuthSession.initialize() runs, so that only the
 * session's and the page's data are left to render when their answers arrive. Absent: the first
 * navigation waits for initialize().
 */
export const RENDER_WHILE_RESTORING = new InjectionToken<boolean>('RENDER_WHILE_RESTORING');
