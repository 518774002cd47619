/**
 * One error class with public codes, after fastify's FST_ERR_* and platformatic/kafka's PLT_KFK_*.
 * Messages say what was expected, what came, and what to do. `kind` tells who must act:
 * `user` (fix input or config), `external` (a provider or service failed; often retryable),
 * `internal` (a StockStream bug).
 */
export const ERROR_CODES = {
  SS_CONFIG_INVALID: { kind: 'user', retryable: false, summary: 'configuration is invalid' },
  SS_CLI_USAGE: { kind: 'user', retryable: false, summary: 'command-line arguments are invalid' },
  SS_CLI_FILE: { kind: 'user', retryable: false, summary: 'an input file cannot be read or parsed' },
  SS_INGEST_REJECT: { kind: 'user', retryable: false, summary: 'an input event was refused' },
  SS_SOURCE_CONNECT: { kind: 'external', retryable: true, summary: 'a market data source is unreachable' },
  SS_SOURCE_PROTOCOL: { kind: 'external', retryable: false, summary: 'a market data source sent something unexpected' },
  SS_LOG_IO: { kind: 'external', retryable: true, summary: 'the log could not read or write its storage' },
  SS_LOG_CORRUPT: { kind: 'internal', retryable: false, summary: 'the log found a corrupt record' },
  SS_LOG_TOPIC: { kind: 'user', retryable: false, summary: 'a topic is missing or misconfigured' },
  SS_LOG_CLOSED: { kind: 'internal', retryable: false, summary: 'the log or consumer is already closed' },
  SS_LOG_OFFSET: { kind: 'user', retryable: false, summary: 'an offset is out of range' },
  SS_PROCESS_STATE: { kind: 'external', retryable: false, summary: 'a processor checkpoint cannot be restored (damaged or from another version); the message says which file to delete' },
  SS_LAKE_IO: { kind: 'external', retryable: true, summary: 'the lake could not write or read its files' },
  SS_LAKE_STORAGE: { kind: 'external', retryable: true, summary: 'the lake’s object store (S3) failed a request on every attempt' },
  SS_LAKE_STORAGE_CONFLICT: { kind: 'user', retryable: false, summary: 'the lake’s object store location holds another lake, or disagrees with the local lake' },
  SS_SQL_INVALID: { kind: 'user', retryable: false, summary: 'a SQL query does not parse, bind or run' },
  SS_SQL_READONLY: { kind: 'user', retryable: false, summary: 'a SQL query tried to write or to read outside the lake' },
  SS_SQL_TIMEOUT: { kind: 'user', retryable: false, summary: 'a SQL query ran past its time limit' },
  SS_MODEL_INVALID: { kind: 'user', retryable: false, summary: 'a SQL model or its configuration is invalid (syntax, ref, cycle)' },
  SS_MODEL_FAILED: { kind: 'user', retryable: true, summary: 'a model failed while it ran; the run was rolled back' },
  SS_MODEL_TEST: { kind: 'user', retryable: false, summary: 'a data test on a model found failing rows' },
  SS_WAREHOUSE_IO: { kind: 'external', retryable: true, summary: 'the serving warehouse (PostgreSQL) could not be read or written' },
  SS_WAREHOUSE_MIGRATION: { kind: 'internal', retryable: false, summary: 'the warehouse schema cannot be migrated: an applied migration changed, is unknown to this version, or failed' },
  SS_INDICATOR_SPEC: { kind: 'user', retryable: false, summary: 'an indicator spec is invalid' },
  SS_API_BAD_REQUEST: { kind: 'user', retryable: false, summary: 'an API request is invalid' },
  SS_API_NOT_FOUND: { kind: 'user', retryable: false, summary: 'an API resource does not exist' },
  SS_INTERNAL: { kind: 'internal', retryable: false, summary: 'an unexpected internal error' },
} as const satisfies Record<string, { kind: ErrorKind; retryable: boolean; summary: string }>;

export type ErrorKind = 'user' | 'external' | 'internal';
export type ErrorCode = keyof typeof ERROR_CODES;

export interface StockStreamErrorOptions {
  cause?: unknown;
  /** Fields that help whoever reads the log: symbol, topic, file, field, value, ... */
  context?: Record<string, unknown>;
  /** Overrides the code's default retry hint. */
  retryable?: boolean;
}

export class StockStreamError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly retryable: boolean;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: StockStreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StockStreamError';
    this.code = code;
    this.kind = ERROR_CODES[code].kind;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.context = options.context ?? {};
  }

  toJSON(): { code: ErrorCode; message: string; kind: ErrorKind; context: Record<string, unknown> } {
    return { code: this.code, message: this.message, kind: this.kind, context: this.context };
  }
}

export function isStockStreamError(err: unknown, code?: ErrorCode): err is StockStreamError {
  return err instanceof StockStreamError && (code === undefined || err.code === code);
}
