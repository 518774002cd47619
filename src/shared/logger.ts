import { pino, type Logger } from 'pino';

export type { Logger };

/** One JSON logger for the process (pino); error context fields appear as structured fields. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { app: 'stockstream' } }, destination ?? pino.destination({ fd: 2, sync: false }));
}
