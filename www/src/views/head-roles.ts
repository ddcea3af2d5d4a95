/**
 * Head roles (after Clark et al., BlackboxNLP 2019) under the model view: one toggle button per role
 * that highlights its heads in the grid and the table, and a table of every head's shares of
 * attention (to [CLS], [SEP], the previous and next token, itself, punctuation) and entropy, as the
 * engine computed them over the run's sentences.
 */
import type { HeadRole, HeadStats } from '../engine/analysis-protocol';
import { el } from './dom';

/** The roles in the order the buttons list them. */
export const ROLES: readonly HeadRole[] = ['cls', 'sep', 'prev', 'next', 'self', 'punct', 'broad', 'mixed'];

/** The badge text of each role. */
export const ROLE_BADGE: Readonly<Record<HeadRole, string>> = {
  cls: 'CLS',
  sep: 'SEP',
  prev: 'prev',
  next: 'next',
  self: 'self',
  punct: 'punct',
  broad: 'broad',
  mixed: 'mixed',
};

/** What each role means, in words. */
const ROLE_MEANING: Readonly<Record<HeadRole, string>> = {
  cls: 'at least half of its attention goes to [CLS]',
  sep: 'at least half of its attention goes to [SEP]',
  prev: 'at least half of its attention goes to the previous token',
  next: 'at least half of its attention goes to the next token',
  self: 'at least half of its attention stays on the token itself',
  punct: 'at least half of its attention goes to punctuation',
  broad: 'spread out: its entropy is at least 90% of the most possible',
  mixed: 'none of the above',
};

/** The shares the table lists, in column order. */
const SHARES = ['cls', 'sep', 'prev', 'next', 'self', 'punct'] as const;

/** The role toggles and the table; `onHighlight(role)` runs when the highlighted role changes (null: none). */
export class HeadRolesPanel {
  readonly element: HTMLElement;
  private readonly buttons = el('div', { className: 'role-buttons', attrs: { role: 'group', 'aria-label': 'Highlight heads by role' } });
  private readonly note = el('p', { className: 'readout', attrs: { 'data-testid': 'role-readout', 'aria-live': 'polite' } });
  private readonly table = el('table', { className: 'roles-table', attrs: { 'data-testid': 'head-roles-table' } });
  private readonly summary = el('summary');
  private stats: HeadStats[][] | null = null;
  /** The highlighted role, if any. */
  role: HeadRole | null = null;
  /** Whether the grid above has one map per head (else one per layer: no badges there). */
  private gridOfHeads = true;

  constructor(private readonly onHighlight: (role: HeadRole | null) => void) {
    const details = el('details', { className: 'roles-details' }, [this.summary, el('div', { className: 'table-scroll' }, [this.table])]);
    this.element = el('div', { className: 'head-roles', attrs: { 'data-testid': 'head-roles' } }, [
      el('p', { className: 'roles-title', text: 'Head roles' }),
      this.buttons,
      this.note,
      details,
    ]);
    this.element.hidden = true;
  }

  /** Shows the roles of `stats` (`[layer][head]`) over `sentences` sentences; null hides the panel, with `why` when it failed. */
  update(stats: HeadStats[][] | null, sentences: number, why?: string): void {
    this.element.hidden = stats === null && why === undefined;
    if (stats === null) {
      this.stats = null;
      this.buttons.replaceChildren();
      this.table.replaceChildren();
      this.note.textContent = why !== undefined ? `Head roles are not available: ${why}` : '';
      return;
    }
    if (stats === this.stats) return;
    this.stats = stats;
    if (this.role !== null && !stats.some((layer) => layer.some((s) => s.role === this.role))) this.role = null;
    const of = sentences === 1 ? 'the sentence' : `the ${sentences} sentences`;
    this.summary.textContent = `Every head’s shares of raw attention, averaged over ${of} (Clark et al., BlackboxNLP 2019)`;
    this.renderButtons();
    this.renderTable();
    this.describe();
  }

  /** Says whether the grid above shows heads (roles drawn there) or layers (roles in the table only). */
  setGridOfHeads(heads: boolean): void {
    if (heads === this.gridOfHeads) return;
    this.gridOfHeads = heads;
    this.describe();
  }

  /** Whether head `head` of layer `layer` has the highlighted role. */
  isHighlighted(layer: number, head: number): boolean {
    return this.role !== null && this.stats?.[layer]?.[head]?.role === this.role;
  }

  /** The badge text of every head, `[layer][head]`, or null without statistics. */
  badges(): string[][] | null {
    return this.stats?.map((layer) => layer.map((s) => ROLE_BADGE[s.role])) ?? null;
  }

  private count(role: HeadRole): number {
    return this.stats?.reduce((sum, layer) => sum + layer.filter((s) => s.role === role).length, 0) ?? 0;
  }

  private renderButtons(): void {
    const buttons = ROLES.filter((role) => this.count(role) > 0).map((role) => {
      const button = el('button', {
        className: 'tool text-tool role-button',
        text: `${ROLE_BADGE[role]} · ${this.count(role)}`,
        attrs: { type: 'button', 'aria-pressed': String(this.role === role), 'data-role': role, 'data-testid': 'role-button', title: `Highlight the heads whose role is “${ROLE_BADGE[role]}”: ${ROLE_MEANING[role]}` },
      });
      button.addEventListener('click', () => this.toggle(role));
      return button;
    });
    this.buttons.replaceChildren(el('span', { className: 'chips-label', text: 'Highlight' }), ...buttons);
  }

  private toggle(role: HeadRole): void {
    this.role = this.role === role ? null : role;
    for (const button of this.buttons.querySelectorAll<HTMLElement>('[data-role]')) button.setAttribute('aria-pressed', String(button.dataset['role'] === this.role));
    for (const row of this.table.querySelectorAll<HTMLElement>('tr[data-role]')) row.classList.toggle('role-highlight', row.dataset['role'] === this.role);
    this.describe();
    this.onHighlight(this.role);
  }

  private describe(): void {
    const role = this.role;
    const where = this.gridOfHeads
      ? 'Each head’s badge in the grid is its role (where the maps are big enough to hold one).'
      : 'This measure has one map per layer, so the roles (of each head’s raw attention) are in the table only.';
    if (role === null || !this.stats) {
      this.note.textContent = `${where} Press a role to highlight its heads.`;
      return;
    }
    const heads = this.stats.flatMap((layer, l) => layer.flatMap((s, h) => (s.role === role ? [`L${l + 1} H${h + 1}`] : [])));
    this.note.textContent = `${ROLE_BADGE[role]}: ${ROLE_MEANING[role]}. ${heads.length} ${heads.length === 1 ? 'head' : 'heads'}: ${heads.join(', ')}.${this.gridOfHeads ? '' : ` ${where}`}`;
  }

  private renderTable(): void {
    const stats = this.stats ?? [];
    const header = el('tr', {}, ['head', 'role', ...SHARES.map((s) => (s === 'cls' ? '[CLS]' : s === 'sep' ? '[SEP]' : s)), 'entropy (nats)'].map((text) => el('th', { text, attrs: { scope: 'col' } })));
    const rows = stats.flatMap((layer, l) =>
      layer.map((s, h) => {
        const row = el('tr', { attrs: { 'data-role': s.role, 'data-layer': String(l), 'data-head': String(h) } }, [
          el('th', { text: `L${l + 1} H${h + 1}`, attrs: { scope: 'row' } }),
          el('td', { className: 'role-cell', text: ROLE_BADGE[s.role] }),
          ...SHARES.map((k) => el('td', { text: s[k].toFixed(3) })),
          el('td', { text: s.entropy.toFixed(3) }),
        ]);
        row.classList.toggle('role-highlight', s.role === this.role);
        return row;
      }),
    );
    this.table.replaceChildren(el('thead', {}, [header]), el('tbody', {}, rows));
  }
}
