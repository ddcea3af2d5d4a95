/** View tabs (WAI-ARIA tabs pattern): click or arrow keys switch; each tab shows its panel. */

/** Wires the `[role=tab]` buttons of `tablist`; `onSelect(name)` runs when the user picks one. */
export function bindTabs(tablist: HTMLElement, onSelect: (name: string) => void): void {
  const tabs = (): HTMLElement[] => Array.from(tablist.querySelectorAll<HTMLElement>('[role="tab"]'));
  tablist.addEventListener('click', (event) => {
    const tab = event.target instanceof HTMLElement ? event.target.closest<HTMLElement>('[role="tab"]') : null;
    if (tab?.dataset['view']) onSelect(tab.dataset['view']);
  });
  tablist.addEventListener('keydown', (event) => {
    const all = tabs();
    const at = all.findIndex((t) => t === document.activeElement);
    if (at < 0) return;
    const moves: Record<string, number> = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: all.length - 1 };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const next = all[(target + all.length) % all.length]!;
    next.focus();
    if (next.dataset['view']) onSelect(next.dataset['view']);
  });
}

/** Marks the tab of `name` selected and shows only its panel. */
export function selectTab(tablist: HTMLElement, name: string): void {
  for (const tab of tablist.querySelectorAll<HTMLElement>('[role="tab"]')) {
    const selected = tab.dataset['view'] === name;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    const panel = document.getElementById(tab.getAttribute('aria-controls') ?? '');
    if (panel) panel.hidden = !selected;
  }
}
