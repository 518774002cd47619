import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

type Reading = number | ReadonlyArray<readonly [Readonly<Record<string, string>>, number]>;

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** Calls `put` for each sample of a reading: one unlabelled value, or labelled values. */
function samples(r: Reading, put: (labels: Record<string, string>, value: number) => void): void {
  if (typeof r === 'number') put(NO_LABELS as Record<string, string>, r);
  else for (const [labels, v] of r) put(labels as Record<string, string>, v);
}

/**
 * Prometheus metrics for `GET /metrics`. Components keep plain counters in their `stats()` (no
 * metric calls on hot paths); metrics read them at scrape time. Names are `stockstream_*`, in
 * base units, counters end in `_total` (https://prometheus.io/docs/practices/naming/).
 */
export class Metrics {
  readonly registry = new Registry();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'stockstream_process_' });
  }

  /** A counter whose value is read from a component at scrape time. */
  counter(name: string, help: string, read: () => Reading, labelNames: string[] = []): void {
    if (!name.endsWith('_total')) throw new Error(`counter ${name} must end in _total`);
    new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        samples(read(), (labels, v) => this.inc(labels, v));
      },
    });
  }

  gauge(name: string, help: string, read: () => Reading, labelNames: string[] = []): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        samples(read(), (labels, v) => this.set(labels, v));
      },
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
