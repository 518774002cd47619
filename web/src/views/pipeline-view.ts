import { ApiError, getJson, qs, type HealthReport } from '../api';
import type { AppContext, View } from '../app';
import { drawSparkline } from '../charts/sparkline';
import { emptyState, errorBox, every, h, replace, setText } from '../dom';
import { big, bytes, duration, num, time } from '../format';
import { palette } from '../theme';
import { dataTable } from '../table';

/**
 * Pipeline health: throughput per stage (rates computed by the server over a short window),
 * each component's status and lag, topic sizes, and the lake's job runs.
 */

interface Stage {
  stage: string;
  label: string;
  total: number;
  perSecond: number;
}
interface Pipeline {
  at: number;
  windowMs: number;
  stages: Stage[];
  lagMs?: Record<string, number>;
  rejects?: { total: number; perSecond: number };
  lateEvents?: number;
}
interface TopicSummary {
  name: string;
  partitions: { partition: number; startOffset: number; endOffset: number; bytes: number }[];
  messages: number;
  bytes: number;
}
interface JobRun {
  job: string;
  runId: number;
  trigger: string;
  startedAt: number;
  status: string;
  rows: number;
  durationMs: number;
  error: string | null;
  detail: string | null;
}

const HISTORY = 60;

export function pipelineView(ctx: AppContext): View {
  const stops: (() => void)[] = [];
  const history = new Map<string, number[]>();
  let positions: { partition: number; offset: number; checkpointed?: number }[] | null = null;
  let ticksEnds: Map<number, number> | null = null;
  return {
    mount(root) {
      const stagesEl = h('div', { class: 'cards', 'data-testid': 'stages' });
      const healthEl = h('div', {});
      const topicsEl = h('div', {});
      const jobsEl = h('div', {});
      const lagEl = h('div', { 'data-testid': 'consumer-lag' });
      const cards = new Map<string, { value: HTMLElement; sub: HTMLElement; spark: HTMLCanvasElement }>();
      replace(
        root,
        h('h1', {}, 'Pipeline health'),
        h('section', { 'aria-label': 'Throughput per stage' }, stagesEl),
        h(
          'div',
          { class: 'grid two' },
          h('section', { class: 'panel', 'aria-labelledby': 'hc-title' }, h('h2', { id: 'hc-title' }, 'Components'), healthEl),
          h('section', { class: 'panel', 'aria-labelledby': 'tp-title' }, h('h2', { id: 'tp-title' }, 'Topics'), topicsEl),
        ),
        h('section', { class: 'panel', style: 'margin-top:12px', 'aria-labelledby': 'lag-title' }, h('h2', { id: 'lag-title' }, 'Log lag: ticks processing'), lagEl),
        h('section', { class: 'panel', style: 'margin-top:12px', 'aria-labelledby': 'jr-title' }, h('h2', { id: 'jr-title' }, 'Job runs'), jobsEl),
      );

      const loadPipeline = async (): Promise<void> => {
        let pl: Pipeline;
        try {
          pl = await getJson<Pipeline>('/api/pipeline');
        } catch (err) {
          replace(stagesEl, errorBox('Throughput unavailable', (err as Error).message));
          cards.clear();
          return;
        }
        const p = palette();
        for (const s of pl.stages) {
          let card = cards.get(s.stage);
          if (card === undefined) {
            const value = h('div', { class: 'value' });
            const sub = h('div', { class: 'sub' });
            const spark = h('canvas', { class: 'spark', 'aria-hidden': 'true', style: 'width:100%;height:28px' });
            card = { value, sub, spark };
            cards.set(s.stage, card);
            stagesEl.append(h('div', { class: 'panel card', 'data-stage': s.stage }, h('div', { class: 'muted' }, s.label), value, sub, spark));
          }
          setText(card.value, `${num(s.perSecond, s.perSecond < 10 ? 1 : 0)}/s`);
          setText(card.sub, `${big(s.total)} total`);
          const hist = history.get(s.stage) ?? [];
          hist.push(s.perSecond);
          if (hist.length > HISTORY) hist.shift();
          history.set(s.stage, hist);
          drawSparkline(card.spark, hist, p.accent, p.accent);
        }
      };
      const loadHealth = async (): Promise<void> => {
        try {
          // Not getJson: a 503 (the platform is down) still carries the report, which says why.
          const res = await fetch('/api/health');
          const hr = (await res.json()) as HealthReport;
          if (hr.components === undefined) throw new Error(`/api/health answered ${res.status} without a report`);
          const processing = hr.components['processing'] as { partitions?: { partition: number; offset: number; checkpointed?: number }[] } | undefined;
          positions = processing?.partitions ?? null;
          renderLag();
          replace(
            healthEl,
            h('p', {}, 'Overall: ', h('span', { class: 'status', 'data-status': hr.status }, hr.status)),
            dataTable(
              ['Component', 'Status', 'Lag', 'Detail'],
              Object.entries(hr.components).map(([name, c]) => [name, c.status, c.lagMs === undefined ? '—' : duration(c.lagMs), c.detail ?? '']),
              { cell: (v, col) => (col === 1 ? h('span', { class: 'status', 'data-status': String(v) }, String(v)) : String(v)) },
            ),
          );
        } catch (err) {
          replace(healthEl, errorBox('Health unavailable', (err as Error).message));
        }
      };
      const loadTopics = async (): Promise<void> => {
        try {
          const topics = await getJson<TopicSummary[]>('/api/topics');
          const ticks = topics.find((t) => t.name === 'ticks');
          ticksEnds = ticks === undefined ? null : new Map(ticks.partitions.map((p) => [p.partition, p.endOffset]));
          renderLag();
          replace(
            topicsEl,
            dataTable(
              ['Topic', 'Partitions', 'Messages', 'Size'],
              topics.map((t) => [t.name, t.partitions.length, big(t.messages), bytes(t.bytes)]),
              { numeric: new Set([1, 2, 3]), cell: (v, col) => (col === 0 ? h('a', { href: `#/topics/${encodeURIComponent(String(v))}` }, String(v)) : String(v)) },
            ),
          );
        } catch (err) {
          replace(topicsEl, errorBox('Topics unavailable', (err as Error).message));
        }
      };
      /** Records on `ticks` not yet processed, per partition: the end offset less the pipeline's position. */
      const renderLag = (): void => {
        if (positions === null) {
          replace(lagEl, emptyState('No tick processing here', 'Processing runs in the process role (or up --role all); its instances show their lag.'));
          return;
        }
        if (ticksEnds === null) return;
        const ends = ticksEnds;
        const rows = [...positions].sort((a, b) => a.partition - b.partition).map((p) => {
          const end = ends.get(p.partition) ?? p.offset;
          return [p.partition, num(p.offset), num(end), num(Math.max(0, end - p.offset)), p.checkpointed === undefined ? '—' : num(p.checkpointed)];
        });
        replace(lagEl, dataTable(['Partition', 'Processed to', 'End offset', 'Lag (records)', 'Checkpointed at'], rows, { numeric: new Set([0, 1, 2, 3, 4]) }));
      };
      const loadJobs = async (): Promise<void> => {
        try {
          const runs = await getJson<JobRun[]>(`/api/jobs/runs${qs({ limit: 20 })}`);
          replace(
            jobsEl,
            runs.length === 0
              ? emptyState('No job runs yet', 'The lake’s scheduled jobs (bronze landing, model runs, compaction) record each run here.')
              : h(
                  'div',
                  { class: 'table-wrap' },
                  dataTable(
                    ['Job', 'Run', 'Trigger', 'Started', 'Status', 'Rows', 'Duration', 'Detail'],
                    runs.map((r) => [r.job, r.runId, r.trigger, time(r.startedAt, undefined, 'datetime'), r.status, num(r.rows), duration(r.durationMs), r.error ?? r.detail ?? '']),
                    { numeric: new Set([1, 5, 6]) },
                  ),
                ),
          );
        } catch (err) {
          if (err instanceof ApiError && err.status === 404) replace(jobsEl, emptyState('No lake on this instance', 'Jobs run where the lake runs (up --role all, or the lake instance of a split deployment).'));
          else replace(jobsEl, errorBox('Job runs unavailable', (err as Error).message));
        }
      };
      void loadPipeline();
      void loadHealth();
      void loadTopics();
      void loadJobs();
      stops.push(every(1000, loadPipeline), every(3000, loadHealth), every(5000, loadTopics), every(10_000, loadJobs));
      // A lake run's notice (the `refresh` channel) shows its job run at once, not at the next poll.
      stops.push(ctx.stream.subscribe(['*'], ['refresh'], () => void loadJobs()));
    },
    unmount() {
      for (const s of stops.splice(0)) s();
    },
  };
}
