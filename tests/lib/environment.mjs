// What every browser-driving script under tests/ (the e2e tests, the benchmark and its tools) finds
// in the same place and starts the same way: the repository, the built page, the models folder,
// Debian's Chromium, and the record of what goes wrong in a page.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

/** The repository's root folder. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The built page (`build_page` in scripts/lib/common.sh writes it and links the default model in). */
export const dist = join(repoRoot, 'www', 'dist');

/** The models folder: $BERTSCOPE_MODELS, else ../shared/models beside the repository (as `models_dir` in scripts/lib/common.sh). */
export const modelsDir = process.env.BERTSCOPE_MODELS || join(repoRoot, '..', 'shared', 'models');

/** The flags ../shared/TOOLCHAIN.md found Debian's Chromium to need here (headless, no sandbox, no GPU, no network chatter). */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The screen pages are looked at on: a laptop window at twice the CSS pixel density. */
export const SCREEN = { viewport: { width: 1280, height: 900 }, deviceScaleFactor: 2 };

/** Starts headless Chromium ($CHROMIUM, else Debian's /usr/bin/chromium) with `CHROMIUM_FLAGS`. */
export function launchChromium() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_FLAGS, headless: true });
}

/**
 * Starts headless Chromium as `launchChromium` does, on a browser profile kept in `dir`: a
 * persistent context, whose HTTP cache and compiled-code cache outlive its pages (a fresh context
 * of `launchChromium` is off the record: it keeps no compiled code between visits).
 */
export function launchChromiumProfile(dir) {
  return chromium.launchPersistentContext(dir, { executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_FLAGS, headless: true });
}

/**
 * Hands `report` one line per console error, uncaught exception and dialog of `page` (dialogs are
 * dismissed, so nothing waits on them). Returns the page.
 */
export function watchPage(page, report) {
  page.on('console', (message) => {
    if (message.type() === 'error') report(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => report(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    report(`dialog: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  return page;
}
