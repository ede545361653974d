// How every browser here is launched: Debian's Chromium (never a downloaded one), headless, with
// background work and the browser's own UI off, for the end-to-end tests and the bench alike.
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Chromium 156's headless mode is the full browser without a screen: every new window (each
 * context's page) loads WebUI "top chrome" pages of its own, the omnibox popup above all (Lit
 * components, fonts, style and layout), about 0.4–0.5 s of CPU per new context on a 2-core
 * machine, on the same cores as the page under test. A browser driven by a test shows no omnibox:
 * those features are off. One --disable-features replaces another, so the list repeats
 * Playwright's own (playwright-core 1.65's chromiumSwitches) before ours.
 */
const PLAYWRIGHT_DISABLED_FEATURES = ['AvoidUnnecessaryBeforeUnloadCheckSync', 'DestroyProfileOnBrowserClose', 'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable', 'LensOverlay', 'MediaRouter', 'PaintHolding', 'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect', 'OptimizationHints', 'NetworkTimeServiceQuerying', 'AimEnabled', 'PreconnectToSearch'];
const BROWSER_UI_FEATURES = ['WebUIOmniboxPopup', 'WebUIOmniboxFullPopup', 'WebUIOmniboxAimPopup', 'PreloadTopChromeWebUI'];

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  `--disable-features=${[...PLAYWRIGHT_DISABLED_FEATURES, ...BROWSER_UI_FEATURES].join(',')}`];
