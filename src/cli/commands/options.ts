import { loadConfig, type Config } from '../../shared/config/index.js';

export interface CommonOptions {
  config?: string;
  port?: number;
  host?: string;
  dataDir?: string;
  logLevel?: string;
}

/** Flags override the file and the environment; a flag not given leaves them be. */
export function configFrom(opts: CommonOptions, more: Record<string, unknown> = {}): Readonly<Config> {
  return loadConfig({
    ...(opts.config === undefined ? {} : { file: opts.config }),
    overrides: { port: opts.port, host: opts.host, dataDir: opts.dataDir, logLevel: opts.logLevel, ...more },
  });
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
