/**
 * The widget's stylesheets, built once per page and adopted by every widget's shadow root
 * (constructable stylesheets: no <style> element, so a strict `style-src 'self'` allows them).
 * The palette and view styles are the page's own files, imported as text.
 */
import palette from '../styles/palette.css?inline';
import paletteDark from '../styles/palette-dark.css?inline';
import views from '../styles/views.css?inline';
import shell from './widget.css?inline';
import type { ThemeName } from './attributes';

interface Sheets {
  palette: CSSStyleSheet;
  dark: CSSStyleSheet;
  auto: CSSStyleSheet;
  views: CSSStyleSheet;
  shell: CSSStyleSheet;
}

let sheets: Sheets | null = null;

function sheet(text: string): CSSStyleSheet {
  const s = new CSSStyleSheet();
  s.replaceSync(text);
  return s;
}

/** The stylesheets of a widget in `theme`, in cascade order. */
export function widgetSheets(theme: ThemeName): CSSStyleSheet[] {
  sheets ??= {
    palette: sheet(palette),
    dark: sheet(paletteDark),
    auto: sheet(`@media (prefers-color-scheme: dark) {\n${paletteDark}\n}`),
    views: sheet(views),
    shell: sheet(shell),
  };
  const scheme = theme === 'dark' ? [sheets.dark] : theme === 'auto' ? [sheets.auto] : [];
  return [sheets.palette, ...scheme, sheets.views, sheets.shell];
}
