// The browser suite's harness: Debian's Chromium driven by playwright-core against a real Grid.
// Every page records console errors and uncaught page errors; afterEach fails the test on any
// the test did not declare. Browsers and Grids are closed in afterAll even when a test failed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { cleanupAll, expectEventually, ROOT, type GridHandle } from '../utils/grid.js';
import { describeRequiring } from '../utils/requires.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');
export const SIZES = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
] as const;

/** describe() when Chromium is there (see describeRequiring for what happens when it is not). */
export function describeBrowser(name: string, body: () => void): void {
  const missing = fs.existsSync(CHROMIUM) ? undefined : `Chromium is not installed at ${CHROMIUM} (Debian package chromium; .ci/run installs it)`;
  describeRequiring(name, missing, 'browser', 'runs in Chromium', body);
}

export interface Session {
  page: Page;
  context: BrowserContext;
  /** Console errors and page errors seen so far, as text. */
  problems: string[];
  /** Declares console errors this test causes on purpose (e.g. the 401 of a wrong password). */
  allow(re: RegExp): void;
  tid(id: string): Locator;
  signIn(user: string, password: string): Promise<void>;
  nav(view: string): Promise<void>;
  snap(name: string): Promise<void>;
}

export interface Harness {
  open(g: GridHandle, path?: string): Promise<Session>;
}

/** Registers the hooks (launch, per-test console check, close) and returns the harness for this describe. */
export function useBrowser(): Harness {
  let browser: Browser | undefined;
  let sessions: Array<Session & { allowed: RegExp[] }> = [];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterEach(async () => {
    const current = sessions;
    sessions = [];
    // Read the problems before closing: a closing page aborts its fetches, which is not the app's fault.
    const unexpected = current.flatMap((s) => s.problems.filter((p) => !s.allowed.some((re) => re.test(p))));
    await Promise.all(current.map((s) => s.context.close().catch(() => undefined)));
    if (unexpected.length) throw new Error(`console or page errors in the dashboard:\n${unexpected.join('\n')}`);
  });

  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await cleanupAll();
    }
  });

  return {
    async open(g, at = '/') {
      if (!browser) throw new Error('the browser did not launch (see beforeAll)');
      const context = await browser.newContext({ viewport: { ...SIZES[0] } });
      // Well under Jest's 60 s, so a missing element fails with its own message rather than the test's timeout.
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()} (${m.location().url})`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.stack ?? e.message}`));
      const allowed: RegExp[] = [];
      const tid = (id: string) => page.getByTestId(id);
      const s: Session & { allowed: RegExp[] } = {
        page,
        context,
        problems,
        allowed,
        allow: (re) => allowed.push(re),
        tid,
        async signIn(user, password) {
          await tid('login-user').fill(user);
          await tid('login-password').fill(password);
          await tid('login-submit').click();
          await tid('whoami').waitFor();
        },
        async nav(view) {
          await tid(`nav-${view}`).click();
          await tid(`view-${view}`).waitFor();
        },
        async snap(name) {
          const before = page.viewportSize();
          for (const size of SIZES) {
            await page.setViewportSize({ ...size });
            await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${size.width}x${size.height}.png`) });
          }
          if (before) await page.setViewportSize(before);
        },
      };
      sessions.push(s);
      await page.goto(g.url + at);
      return s;
    },
  };
}

/** Polls a locator's text (or attribute) until it matches; the message names what it last saw. */
export async function textMatches(l: Locator, re: RegExp, timeoutMs = 15_000, attr?: string): Promise<string> {
  return expectEventually(async () => {
    const v = (attr ? await l.getAttribute(attr, { timeout: 1000 }) : await l.textContent({ timeout: 1000 })) ?? '';
    if (!re.test(v)) throw new Error(`${attr ?? 'text'} ${JSON.stringify(v.slice(0, 300))} does not match ${re}`);
    return v;
  }, timeoutMs);
}

/** Clicks a button that may ask for confirmation first, and answers yes. Returns the new toast's text (result and audit entry). */
export async function actAndConfirm(s: Session, button: Locator, timeoutMs = 10_000): Promise<string> {
  const texts = async (id: string) => s.tid(id).allTextContents();
  const seen = new Set([...(await texts('toast')), ...(await texts('toast-error'))]);
  await button.click();
  const answer = s.page.locator('[data-testid=confirm-dialog], [data-testid=toast], [data-testid=toast-error]').first();
  await answer.waitFor({ timeout: timeoutMs });
  if (await s.tid('confirm-dialog').isVisible()) await s.tid('confirm-yes').click();
  const text = await expectEventually<string | undefined>(async () => {
    const refused = (await texts('toast-error')).find((t) => !seen.has(t));
    if (refused) throw new Error(`the action was refused: ${refused}`);
    return (await texts('toast')).find((t) => !seen.has(t));
  }, timeoutMs);
  if (!text || !/audit #\d+/.test(text)) throw new Error(`the toast does not name the audit entry: ${text}`);
  return text;
}
