import type pg from 'pg';
import { withTransaction } from './pg-session.js';

/** The serving tables partitioned by month (migration 1): candles and indicators by start, alerts by ts. */
export const PARTITIONED_TABLES = Object.freeze(['candles', 'indicators', 'alerts'] as const);
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/** `pg_advisory_xact_lock` key serialising partition DDL across writers ('SSPARTIT'). */
const PARTITION_LOCK = 0x5353_5041_5254_4954n;

/** The UTC month of an epoch-ms instant as YYYYMM, e.g. 202401. */
export function monthOf(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 100 + d.getUTCMonth() + 1;
}

/** `serving.<table>_YYYYMM`, the name a Grafana panel or an operator's retention job can rely on. */
export function partitionName(table: PartitionedTable, month: number): string {
  return `${table}_${String(month).padStart(6, '0')}`;
}

function monthStart(month: number): string {
  const y = Math.floor(month / 100);
  const m = month % 100;
  return new Date(Date.UTC(y, m - 1, 1)).toISOString();
}

function nextMonth(month: number): number {
  const y = Math.floor(month / 100);
  const m = month % 100;
  return m === 12 ? (y + 1) * 100 + 1 : month + 1;
}

/**
 * Creates the monthly range partitions (`serving.<table>_YYYYMM`, UTC months) of the serving
 * tables before rows land in them. There is no DEFAULT partition: a row for a missing month
 * would fail the insert, so every writer ensures its months first.
 *
 * Concurrent creators (writers in several processes reaching a new month together) are
 * serialised by a transaction advisory lock, and `IF NOT EXISTS` makes the later ones no-ops:
 * two bare CREATEs of one partition can otherwise both pass the catalog check and one fails on
 * the catalog's unique index. The DDL runs in its own short transaction, never inside a data
 * transaction: attaching a partition locks the parent, and holding that while also holding row
 * locks is how two writers deadlock. Known partitions are cached; `forget()` drops the cache (after a
 * failed write, in case an operator dropped a month) so the next ensure checks again.
 */
export class MonthlyPartitions {
  readonly #pool: pg.Pool;
  readonly #known = new Set<string>();

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Makes sure the partition of every instant in `instants` exists; returns how many were created. */
  async ensure(table: PartitionedTable, instants: Iterable<number>): Promise<number> {
    const missing = new Set<number>();
    for (const ms of instants) {
      const month = monthOf(ms);
      if (!this.#known.has(partitionName(table, month))) missing.add(month);
    }
    if (missing.size === 0) return 0;
    const months = [...missing].sort((a, b) => a - b);
    const created = await withTransaction(this.#pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK.toString()]);
      let n = 0;
      for (const month of months) {
        const name = partitionName(table, month);
        const exists = await client.query('SELECT to_regclass($1) IS NOT NULL AS exists', [`serving.${name}`]);
        if ((exists.rows[0] as { exists: boolean }).exists) continue;
        // Identifiers and bounds are built from integers and the closed table list, never from input.
        await client.query(`CREATE TABLE serving.${name} PARTITION OF serving.${table} FOR VALUES FROM ('${monthStart(month)}') TO ('${monthStart(nextMonth(month))}')`);
        n++;
      }
      return n;
    });
    for (const month of months) this.#known.add(partitionName(table, month));
    return created;
  }

  forget(): void {
    this.#known.clear();
  }
}
