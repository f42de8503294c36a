import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { DIALECTS } from '@spindle/gateway';
import { TEST_ADMIN_KEY } from '../support/auth';
import { spindleSuite } from '../support/spindle-suite';

// The Content-Security-Policy on every answer (security-headers.ts) must leave Swagger UI whole: a
// real browser (the host's Chromium, driven by playwright-core: nothing downloaded) opens the
// native page and every dialect's, authorizes with a key, runs a GET that needs one, and reports
// no CSP violation, console error or page error. .ci/run installs Debian's chromium.
const CHROMIUM = process.env['SPINDLE_CHROMIUM'] ?? '/usr/bin/chromium';
const PAGES = ['/docs', ...DIALECTS.map((d) => `/compat/${d.name}/docs`)];
// A route of each document that needs a key: the first GET under the API's prefix.
const SCOPED_PATH = /\/(api\/v1|v2\/api|v1)\/[a-z]/;
const REPORT_VIOLATIONS = `document.addEventListener('securitypolicyviolation', (e) =>
  console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))`;

describe('Swagger UI under the security headers', () => {
  const suite = spindleSuite({ name: 'swagger-ui', env: { SPINDLE_DIALECT_AUTH: 'keys' } });
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set SPINDLE_CHROMIUM)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  const watched = async (path: string) => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text()))
        problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    // Runs in the page (a string: this project's types have no DOM).
    await page.addInitScript(REPORT_VIOLATIONS);
    const answer = await page.goto(suite.url + path);
    return { page, problems, answer };
  };

  const authorize = async (page: Page) => {
    await page.click('button.authorize');
    await page.locator('.auth-container input').first().fill(TEST_ADMIN_KEY);
    await page.locator('.auth-container button.authorize').first().click();
    await page.locator('.auth-container button', { hasText: 'Logout' }).first().waitFor();
    await page.click('button.close-modal');
  };

  const tryScopedGet = async (page: Page) => {
    const operation = page
      .locator('.opblock-get', { has: page.locator('.opblock-summary-path', { hasText: SCOPED_PATH }) })
      .first();
    await operation.locator('.opblock-summary').click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('button.execute').click();
    const status = operation.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor();
    return (await status.innerText()).trim();
  };

  it.each(PAGES)(
    '%s loads, authorizes with a key and calls a scoped route, no CSP violation',
    async (path) => {
      const { page, problems, answer } = await watched(path);
      try {
        expect(answer?.headers()['content-security-policy']).toContain("script-src 'self'");
        expect(answer?.headers()['x-frame-options']).toBe('DENY');
        await page.locator('.opblock').first().waitFor();
        await authorize(page);
        expect(await tryScopedGet(page)).toMatch(/^2\d\d$/);
        expect(problems).toEqual([]);
      } finally {
        await page.close();
      }
    },
  );

  it('answers 401 to the same call without Authorize (the key is what let it through)', async () => {
    const { page } = await watched('/docs');
    try {
      await page.locator('.opblock').first().waitFor();
      expect(await tryScopedGet(page)).toBe('401');
    } finally {
      await page.close();
    }
  });
});
