import type { FastifyInstance } from 'fastify';
import type { TopicInfo } from '../../log/log.js';
import { StockStreamError } from '../../shared/errors.js';
import { TICKS_TOPIC } from '../../sources/ingest/index.js';
import { readRange, recordValue, type LogReader, type ValueEncoding } from '../log-view/index.js';
import { badRequest, optionalInt, rejectUnknown, type Query } from '../schemas/query-params.js';

/** Most messages one page of the topic browser returns. */
export const MAX_MESSAGES_PER_PAGE = 500;
const DEFAULT_MESSAGES_PER_PAGE = 50;

/** `GET /api/topics` row. */
export interface TopicRow {
  name: string;
  partitions: { partition: number; startOffset: number; endOffset: number; bytes: number }[];
  /** Messages retained: the sum over partitions of endOffset − startOffset. */
  messages: number;
  bytes: number;
  config: TopicInfo['config'];
}

/** One message of `GET /api/topics/:topic/messages`. */
export interface MessageRow {
  offset: number;
  key: string;
  timestamp: number;
  headers: Readonly<Record<string, string>>;
  /** Bytes of the value as stored. */
  size: number;
  value: unknown;
  encoding: ValueEncoding;
  truncated: boolean;
}

export interface MessagesPage {
  topic: string;
  partition: number;
  startOffset: number;
  endOffset: number;
  /** The offset asked for, when it was below startOffset (retention deleted it) and the page starts at startOffset instead. */
  clampedFrom?: number;
  messages: MessageRow[];
}

function toTopicRow(t: TopicInfo): TopicRow {
  const partitions = t.partitions.map((p) => ({ partition: p.partition, startOffset: p.startOffset, endOffset: p.endOffset, bytes: p.bytes }));
  return {
    name: t.name,
    partitions,
    messages: partitions.reduce((n, p) => n + (p.endOffset - p.startOffset), 0),
    bytes: partitions.reduce((n, p) => n + p.bytes, 0),
    config: t.config,
  };
}

/** The topic named, or a 404 that lists the ones there are. */
export async function findTopic(log: LogReader, name: string): Promise<TopicInfo> {
  const topics = await log.topics();
  const t = topics.find((x) => x.name === name);
  if (t === undefined) {
    const known = topics.map((x) => x.name).sort();
    throw new StockStreamError(
      'SS_API_NOT_FOUND',
      `topic: ${JSON.stringify(name)} does not exist; the topics are ${known.length === 0 ? '(none yet)' : known.join(', ')} (GET /api/topics lists them with their partitions)`,
      { context: { topic: name } },
    );
  }
  return t;
}

/**
 * The topic browser (the role Kafdrop plays for Kafka), over the log port so it reads the
 * embedded journal and Kafka alike: every topic with its partitions' offsets and sizes, and one
 * page of one partition's messages — the newest `limit` by default, or `limit` from `offset`.
 * Reads only the page asked for, never a whole partition.
 */
export function registerTopicRoutes(app: FastifyInstance, log: LogReader): void {
  app.get('/api/topics', async (request) => {
    rejectUnknown(request.query as Query, []);
    const topics = await log.topics();
    return topics.map(toTopicRow).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  });

  app.get<{ Params: { topic: string } }>('/api/topics/:topic/messages', async (request): Promise<MessagesPage> => {
    const query = request.query as Query;
    rejectUnknown(query, ['partition', 'offset', 'limit']);
    const partition = optionalInt(query, 'partition', 0, 1_000_000, 0);
    const offset = optionalInt(query, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const limit = optionalInt(query, 'limit', 1, MAX_MESSAGES_PER_PAGE, DEFAULT_MESSAGES_PER_PAGE);
    const topic = await findTopic(log, request.params.topic);
    const p = topic.partitions.find((x) => x.partition === partition);
    if (p === undefined) {
      throw new StockStreamError(
        'SS_API_NOT_FOUND',
        `partition: ${partition} does not exist in ${topic.name}, which has partitions ${topic.partitions.length === 0 ? '(none)' : `0..${topic.partitions.length - 1}`}; pass one of them`,
        { context: { topic: topic.name, partition } },
      );
    }
    if (offset !== undefined && offset > p.endOffset) {
      throw badRequest(
        `offset: ${offset} is past the end of ${topic.name}/${partition}, whose retained offsets are ${p.startOffset}..${p.endOffset - 1} (${p.endOffset} is the next to be written); pass an offset up to ${p.endOffset}, or leave it out for the newest messages`,
        { param: 'offset', value: offset },
      );
    }
    const from = offset === undefined ? Math.max(p.startOffset, p.endOffset - limit) : Math.max(offset, p.startOffset);
    const records = await readRange(log, topic.name, partition, from, p.endOffset, limit);
    const messages = records.map((r): MessageRow => ({
      offset: r.offset,
      key: r.key,
      timestamp: r.timestamp,
      headers: r.headers,
      size: r.value.byteLength,
      ...recordValue(r.value, topic.name === TICKS_TOPIC),
    }));
    return {
      topic: topic.name,
      partition,
      startOffset: p.startOffset,
      endOffset: p.endOffset,
      ...(offset !== undefined && offset < p.startOffset ? { clampedFrom: offset } : {}),
      messages,
    };
  });
}
