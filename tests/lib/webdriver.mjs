// A small W3C WebDriver client for the page's Firefox tests: geckodriver started on a free port,
// one headless Firefox session, and the few commands the tests use (navigate, run a script, find
// an element, type into it). playwright-core drives only its own patched Firefox, which cannot
// be installed here; Debian's firefox-esr speaks WebDriver through geckodriver.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

/** The key WebDriver uses for an element reference in JSON. */
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/** The first of these that exists, or null. */
function firstExisting(paths) {
  return paths.find((p) => p && existsSync(p)) ?? null;
}

/** geckodriver: `GECKODRIVER`, else cargo's bin folder, else the PATH. */
function geckodriverPath() {
  const home = process.env.CARGO_HOME ?? `${process.env.HOME}/.cargo`;
  const found = firstExisting([process.env.GECKODRIVER, `${home}/bin/geckodriver`, '/usr/local/bin/geckodriver', '/usr/bin/geckodriver']);
  if (!found) throw new Error('geckodriver is missing: `cargo install geckodriver` (scripts/lib/common.sh ensure_browsers does)');
  return found;
}

/** Firefox: `FIREFOX`, else Debian's firefox-esr, else firefox. */
function firefoxPath() {
  const found = firstExisting([process.env.FIREFOX, '/usr/bin/firefox-esr', '/usr/bin/firefox']);
  if (!found) throw new Error('Firefox is missing: `apt-get install firefox-esr` (scripts/lib/common.sh ensure_browsers does)');
  return found;
}

/** A port nothing listens on now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** One headless Firefox, driven through geckodriver. */
export class Firefox {
  /** @param {string} base geckodriver's address, @param {string} session the session id, @param {import('node:child_process').ChildProcess} driver */
  constructor(base, session, driver) {
    this.base = base;
    this.session = session;
    this.driver = driver;
  }

  /** Starts geckodriver and a headless Firefox session in a fresh profile. */
  static async launch() {
    const port = await freePort();
    const driver = spawn(geckodriverPath(), ['--port', String(port), '--host', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    driver.stderr.on('data', (chunk) => (stderr += chunk));
    const base = `http://127.0.0.1:${port}`;
    const until = Date.now() + 30_000;
    for (;;) {
      try {
        const status = await fetch(`${base}/status`);
        if (status.ok) break;
      } catch {
        // Not listening yet.
      }
      if (driver.exitCode !== null || Date.now() > until) {
        driver.kill();
        throw new Error(`geckodriver did not start: ${stderr.trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const capabilities = {
      alwaysMatch: {
        browserName: 'firefox',
        'moz:firefoxOptions': { binary: firefoxPath(), args: ['-headless'], prefs: { 'browser.shell.checkDefaultBrowser': false } },
        timeouts: { script: 60_000, pageLoad: 120_000 },
      },
    };
    try {
      const { sessionId } = await call(`${base}/session`, 'POST', { capabilities });
      return new Firefox(base, sessionId, driver);
    } catch (error) {
      driver.kill();
      throw error;
    }
  }

  /** A command of this session: `POST`/`GET`/`DELETE` on `/session/{id}{path}`, its `value`. */
  command(method, path, body) {
    return call(`${this.base}/session/${this.session}${path}`, method, body);
  }

  /** Opens `url` and waits for its load event. */
  navigate(url) {
    return this.command('POST', '/url', { url });
  }

  /** Runs `fn` (a function, or its source text) in the page with `args`; its JSON result. */
  run(fn, ...args) {
    return this.command('POST', '/execute/sync', { script: `return (${fn}).apply(null, arguments);`, args });
  }

  /** Polls `fn` in the page every 100 ms until it returns something truthy; that value. */
  async waitFor(fn, { timeout = 180_000, what = 'the page' } = {}, ...args) {
    const until = Date.now() + timeout;
    for (;;) {
      const value = await this.run(fn, ...args);
      if (value) return value;
      if (Date.now() > until) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The element reference of the `index`th match of `selector`. */
  async element(selector, index = 0) {
    const found = await this.command('POST', '/elements', { using: 'css selector', value: selector });
    if (!found[index]) throw new Error(`no element ${selector} [${index}]`);
    return found[index][ELEMENT];
  }

  /** Clears the `index`th `selector` and types `text` into it, as a user would. */
  async type(selector, text, index = 0) {
    const element = await this.element(selector, index);
    await this.command('POST', `/element/${element}/clear`, {});
    await this.command('POST', `/element/${element}/value`, { text });
  }

  /** Ends the session and geckodriver. */
  async close() {
    try {
      await this.command('DELETE', '');
    } finally {
      this.driver.kill();
    }
  }
}

/** One WebDriver request; its `value`, or an error with WebDriver's message. */
async function call(url, method, body) {
  const response = await fetch(url, {
    method,
    headers: { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`WebDriver ${method} ${url}: ${json.value?.error}: ${json.value?.message}`);
  return json.value;
}
