import type pg from 'pg';

/**
 * A pooled connection held for a unit of work, with the failure handling node-postgres leaves to
 * the caller: a checked-out client has no 'error' listener of its own (pg-pool only listens while
 * it is idle), so a connection the server terminates between two queries (a restart, an admin's
 * pg_terminate_backend) would raise an unhandled 'error' event and crash the process. After any
 * failure the connection is destroyed, not returned: that ends an open transaction and releases
 * session advisory locks server-side, and the pool's next connect finds a live server (or fails).
 */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failure: Error | undefined;
  const onError = (err: Error): void => {
    failure = err;
  };
  client.on('error', onError);
  try {
    return await work(client);
  } catch (err) {
    failure = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(failure);
  }
}

/** `work` inside BEGIN … COMMIT on one connection; any failure rolls back (withClient). */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  });
}

/** The earliest and latest instants both PostgreSQL's timestamptz and an ISO-8601 year of four digits can hold. */
const MIN_ISO_MS = -62_135_596_800_000; // 0001-01-01T00:00:00.000Z
const MAX_ISO_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

/** True when an epoch-ms instant can be stored as a timestamptz through `timestampParam`. */
export function storableTimestamp(ms: number): boolean {
  return Number.isFinite(ms) && ms >= MIN_ISO_MS && ms <= MAX_ISO_MS;
}

/**
 * An epoch-ms instant as a timestamptz parameter: ISO-8601 in UTC, exact to the millisecond
 * (a Date would go through node-postgres's local-time formatting; a float division through
 * rounding). Instants beyond what four-digit ISO years hold become ±infinity, so a range bound
 * of any size still means "unbounded" rather than an error.
 */
export function timestampParam(ms: number): string {
  if (ms < MIN_ISO_MS) return '-infinity';
  if (ms > MAX_ISO_MS) return 'infinity';
  return new Date(ms).toISOString();
}

/**
 * Reads a timestamptz back as epoch ms: `extract(epoch …)` is exact numeric since PostgreSQL 14,
 * and ms values we wrote are whole numbers, so the float8 cast and node-postgres's parseFloat
 * give the same number that went in (±infinity included).
 */
export function epochMs(column: string): string {
  return `(extract(epoch from ${column}) * 1000)::float8`;
}
