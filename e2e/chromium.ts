/**
 * How RoleShell's tests and benchmarks start Chromium: Debian's build (Playwright
 * cannot download its own here; ROLESHELL_CHROMIUM points elsewhere), with the
 * background services off, since they only try to reach Google on a closed network.
 */
export const chromiumLaunchOptions = {
  executablePath: process.env.ROLESHELL_CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
};
