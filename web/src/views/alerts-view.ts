import { ApiError, getJson, qs } from '../api';
import type { AppContext, View } from '../app';
import { emptyState, errorBox, every, h, replace } from '../dom';
import { time } from '../format';
import { dataTable } from '../table';

/**
 * Alerts and signals feed, and the rejects (dead-letter) view with the reason for each refusal.
 * The alerts feed shows what `/api/alerts` has; a server without an alert engine answers 404 and
 * the view says so rather than showing an empty list as if nothing had fired.
 */

interface Reject {
  partition: number;
  offset: number;
  ts: number;
  field?: string;
  value?: unknown;
  rule?: string;
  message?: string;
  reason?: string;
  source?: string;
  input?: unknown;
}

export function alertsView(_ctx: AppContext): View {
  const stops: (() => void)[] = [];
  return {
    mount(root) {
      const alertsEl = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
      const rejectsEl = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
      const refresh = h('button', { type: 'button' }, 'Refresh');
      replace(
        root,
        h('h1', {}, 'Alerts, signals and rejects'),
        h('div', { class: 'grid' }, h('section', { class: 'panel', 'aria-labelledby': 'al-title' }, h('h2', { id: 'al-title' }, 'Alerts and signals'), alertsEl), h('section', { class: 'panel', 'aria-labelledby': 'rj-title' }, h('div', { class: 'toolbar' }, h('h2', { id: 'rj-title', class: 'grow' }, 'Rejected events (dead letters)'), refresh), rejectsEl)),
      );
      const loadAlerts = async (): Promise<void> => {
        try {
          const alerts = await getJson<Record<string, unknown>[]>(`/api/alerts${qs({ limit: 200 })}`);
          if (alerts.length === 0) replace(alertsEl, emptyState('No alerts have fired', 'Alerts appear here as their rules trigger.'));
          else {
            const cols = [...new Set(alerts.flatMap((a) => Object.keys(a)))];
            replace(alertsEl, h('div', { class: 'table-wrap' }, dataTable(cols, alerts.map((a) => cols.map((c) => a[c])))));
          }
        } catch (err) {
          if (err instanceof ApiError && err.status === 404) {
            replace(alertsEl, emptyState('No alert engine in this build', 'This server has no alert rules or trading signals yet (GET /api/alerts is not served). Threshold and indicator alerts with Telegram and webhook delivery are planned; until then, watch rejects below and the Pipeline view.'));
          } else replace(alertsEl, errorBox('Alerts unavailable', (err as Error).message));
        }
      };
      const loadRejects = async (): Promise<void> => {
        try {
          const rejects = await getJson<Reject[]>(`/api/rejects${qs({ limit: 200 })}`);
          if (rejects.length === 0) {
            replace(rejectsEl, emptyState('No rejected events', 'Every event so far passed validation. Events that fail (a negative price, an unknown symbol, a timestamp out of range) land on the ticks.dlq topic and appear here with the field, the value and the rule broken.'));
            return;
          }
          replace(
            rejectsEl,
            h('p', { class: 'muted' }, `Newest ${rejects.length} from ticks.dlq (browse all in Topics).`),
            h(
              'div',
              { class: 'table-wrap' },
              dataTable(
                ['Received', 'Source', 'Field', 'Value', 'Rule', 'Why', 'Offset'],
                rejects.map((r) => [time(r.ts, undefined, 'datetime'), r.source ?? '—', r.field ?? '—', r.value === undefined ? '—' : JSON.stringify(r.value), r.rule ?? '—', r.message ?? r.reason ?? '—', `${r.partition}:${r.offset}`]),
              ),
            ),
          );
        } catch (err) {
          replace(rejectsEl, errorBox('Rejects unavailable', (err as Error).message));
        }
      };
      refresh.addEventListener('click', () => void loadRejects());
      void loadAlerts();
      void loadRejects();
      stops.push(every(5000, loadRejects), every(10_000, loadAlerts));
    },
    unmount() {
      for (const s of stops.splice(0)) s();
    },
  };
}
