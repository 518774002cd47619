import type { Config } from '../shared/config/index.js';
import { StockStreamError } from '../shared/errors.js';

export type Role = Config['role'];
export type Component = 'ingest' | 'process' | 'lake' | 'serve';

/** Whether an instance of `role` runs `component` (`all` runs everything). */
export function runs(role: Role, component: Component): boolean {
  return role === 'all' || role === component;
}

/**
 * Checks that the configuration can run `role`, naming each setting at fault and the fix: a split
 * role shares work with other processes through Kafka consumer groups (the journal belongs to
 * one process), and `process` and `serve` instances meet only through Redis.
 */
export function checkRole(config: Readonly<Config>): void {
  const problems: string[] = [];
  const role = config.role;
  if (role !== 'all' && config.log.kind !== 'kafka') {
    problems.push(
      `role: '${role}' needs log.kind 'kafka', got '${config.log.kind}': instances share the work through Kafka consumer groups, and the embedded journal belongs to one process. Set STOCKSTREAM_LOG__KIND=kafka and STOCKSTREAM_LOG__KAFKA__BROKERS=host:9092, or run --role all.`,
    );
  }
  if ((role === 'process' || role === 'serve') && config.redis.url === null) {
    problems.push(
      `redis.url: role '${role}' needs Redis, got none: process instances publish live candles, ticks and KPIs there and serve instances subscribe. Set STOCKSTREAM_REDIS__URL=redis://host:6379.`,
    );
  }
  if (problems.length > 0) throw new StockStreamError('SS_CONFIG_INVALID', `Cannot run role '${role}':\n  - ${problems.join('\n  - ')}`, { context: { role } });
}
