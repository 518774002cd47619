import { getJson, qs } from '../api';
import type { AppContext, RouteParams, View } from '../app';
import { emptyState, errorBox, every, h, replace } from '../dom';
import { big, bytes, time } from '../format';
import { dataTable } from '../table';

/**
 * Topic browser (the Kafdrop role) for the journal and for Kafka alike: topics with their
 * partitions and offsets, then a partition's messages from the tail or from an offset.
 * Route: #/topics, #/topics/<topic>?p=<partition>&o=<offset>.
 */

interface PartitionInfo {
  partition: number;
  startOffset: number;
  endOffset: number;
  bytes: number;
}
interface TopicInfo {
  name: string;
  partitions: PartitionInfo[];
  messages: number;
  bytes: number;
  config?: Record<string, unknown>;
}
interface Message {
  offset: number;
  key: string;
  timestamp: number;
  headers: Record<string, string>;
  size: number;
  value: unknown;
  /** event: a ticks value decoded from the binary event codec. */
  encoding: 'event' | 'json' | 'text' | 'base64';
  truncated?: boolean;
}
interface MessagePage {
  topic: string;
  partition: number;
  startOffset: number;
  endOffset: number;
  clampedFrom?: number;
  messages: Message[];
}

const LIMIT = 50;

function valueCell(m: Message): HTMLElement {
  const structured = m.encoding === 'json' || m.encoding === 'event';
  const text = structured ? JSON.stringify(m.value, null, 2) : String(m.value);
  const short = (structured ? JSON.stringify(m.value) : String(m.value)).slice(0, 120);
  return h('details', {}, h('summary', { class: 'mono' }, `${m.encoding === 'base64' ? '[binary, base64] ' : ''}${short}${m.truncated ? ' … (truncated)' : ''}`), h('pre', { class: 'value' }, text));
}

export function topicsView(_ctx: AppContext): View {
  const stops: (() => void)[] = [];
  return {
    async mount(root: HTMLElement, params: RouteParams) {
      const topicName = params.path[0];
      const listEl = h('div', {});
      replace(root, h('h1', {}, topicName === undefined ? 'Topics' : h('span', {}, h('a', { href: '#/topics' }, 'Topics'), ` / ${topicName}`)), listEl);
      let topics: TopicInfo[];
      try {
        topics = await getJson<TopicInfo[]>('/api/topics');
      } catch (err) {
        replace(listEl, errorBox('Topics unavailable', (err as Error).message));
        return;
      }
      if (topicName === undefined) {
        const render = (list: TopicInfo[]): void =>
          replace(
            listEl,
            list.length === 0
              ? emptyState('No topics', 'Topics are created when the platform starts.')
              : h(
                  'section',
                  { class: 'panel table-wrap' },
                  dataTable(
                    ['Topic', 'Partitions', 'Messages', 'Size', 'Offsets (start–end per partition)'],
                    list.map((t) => [t.name, t.partitions.length, big(t.messages), bytes(t.bytes), t.partitions.map((p) => `${p.partition}: ${p.startOffset}–${p.endOffset}`).join(' · ')]),
                    { numeric: new Set([1, 2, 3]), cell: (v, col) => (col === 0 ? h('a', { href: `#/topics/${encodeURIComponent(String(v))}`, 'data-topic': String(v) }, String(v)) : String(v)) },
                  ),
                ),
          );
        render(topics);
        stops.push(
          every(3000, async () => {
            try {
              render(await getJson<TopicInfo[]>('/api/topics'));
            } catch {
              // Keep the last list; the connection badge shows the outage.
            }
          }),
        );
        return;
      }

      const topic = topics.find((t) => t.name === topicName);
      if (topic === undefined) {
        replace(listEl, errorBox(`No topic ${topicName}`, `Known topics: ${topics.map((t) => t.name).join(', ')}`));
        return;
      }
      const partition = Math.max(0, Number(params.query.get('p') ?? 0) || 0);
      const from = params.query.get('o');
      const partSel = h('select', { 'aria-label': 'Partition' }, topic.partitions.map((p) => h('option', { value: String(p.partition), selected: p.partition === partition }, `partition ${p.partition} (${p.startOffset}–${p.endOffset})`)));
      const offsetIn = h('input', { type: 'number', min: '0', placeholder: 'offset (empty: tail)', 'aria-label': 'Start offset', value: from ?? '' });
      const goBtn = h('button', { type: 'button' }, 'Show');
      const follow = h('input', { type: 'checkbox' });
      follow.checked = from === null;
      const pageEl = h('div', { 'data-testid': 'messages' });
      const nav = (p: number, o: string | null): void => {
        location.hash = `#/topics/${encodeURIComponent(topicName)}${qs({ p, o })}`;
      };
      goBtn.addEventListener('click', () => nav(Number(partSel.value), offsetIn.value === '' ? null : offsetIn.value));
      partSel.addEventListener('change', () => nav(Number(partSel.value), null));
      replace(
        listEl,
        h(
          'section',
          { class: 'panel' },
          h('div', { class: 'toolbar' }, partSel, offsetIn, goBtn, h('label', { class: 'check' }, follow, 'Follow the tail'), h('span', { class: 'grow' }), h('span', { class: 'muted' }, `${big(topic.messages)} messages · ${bytes(topic.bytes)}`)),
          pageEl,
        ),
      );
      const load = async (): Promise<void> => {
        let page: MessagePage;
        try {
          page = await getJson<MessagePage>(`/api/topics/${encodeURIComponent(topicName)}/messages${qs({ partition, offset: follow.checked ? undefined : from, limit: LIMIT })}`);
        } catch (err) {
          replace(pageEl, errorBox('Messages unavailable', (err as Error).message));
          return;
        }
        const first = page.messages[0]?.offset;
        const older = first !== undefined && first > page.startOffset ? h('button', { type: 'button' }, 'Older') : null;
        older?.addEventListener('click', () => nav(partition, String(Math.max(page.startOffset, (first ?? 0) - LIMIT))));
        const last = page.messages[page.messages.length - 1]?.offset;
        const newer = last !== undefined && last + 1 < page.endOffset ? h('button', { type: 'button' }, 'Newer') : null;
        newer?.addEventListener('click', () => nav(partition, String(last === undefined ? page.endOffset : last + 1)));
        replace(
          pageEl,
          page.clampedFrom === undefined ? null : h('p', { class: 'muted' }, `Offset ${page.clampedFrom} is below the partition’s start (retention removed it); showing from ${page.startOffset}.`),
          page.messages.length === 0
            ? emptyState('No messages', `Partition ${partition} holds offsets ${page.startOffset} to ${page.endOffset} (end exclusive).`)
            : h(
                'div',
                { class: 'table-wrap' },
                dataTable(
                  ['Offset', 'Time', 'Key', 'Size', 'Value'],
                  page.messages.map((m) => [m.offset, time(m.timestamp, undefined, 'datetime'), m.key, bytes(m.size), m]),
                  { numeric: new Set([0, 3]), cell: (v, col) => (col === 4 ? valueCell(v as Message) : String(v)) },
                ),
              ),
          h('div', { class: 'toolbar', style: 'margin-top:8px' }, older, newer),
        );
      };
      await load();
      stops.push(
        every(2000, () => {
          if (follow.checked) return load();
          return undefined;
        }),
      );
    },
    unmount() {
      for (const s of stops.splice(0)) s();
    },
  };
}
