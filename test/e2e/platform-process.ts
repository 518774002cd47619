import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from '../integration/helpers.js';

/**
 * `stockstream up` as a child process on a fixed port, so a test can stop it and start it again
 * at the same address (the dashboard's reconnect) over the same data dir.
 */
export class PlatformProcess {
  #child: ChildProcess | null = null;
  #output = '';

  constructor(
    readonly port: number,
    readonly dataDir: string,
    readonly env: Readonly<Record<string, string>> = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  output(): string {
    return this.#output.slice(-4000);
  }

  /** Starts `up` and resolves once it prints its dashboard URL. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [CLI, 'up', '--port', String(this.port), '--data-dir', this.dataDir], {
      env: { ...process.env, STOCKSTREAM_LOG_LEVEL: 'warn', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      const on = (chunk: Buffer): void => {
        this.#output += chunk.toString('utf8');
        if (/http:\/\/localhost:\d+\//.test(this.#output)) resolve();
      };
      child.stdout?.on('data', on);
      child.stderr?.on('data', on);
      child.once('exit', (code) => reject(new Error(`stockstream up exited with ${code} before it was up: ${this.output()}`)));
    });
  }

  /** SIGTERM (a clean stop, as a user's Ctrl+C), then waits for the exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
}
