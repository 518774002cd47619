import { getJson, type SymbolRow } from './api';
import type { RouteParams } from './route';
import type { LiveStream } from './stream';

export type { RouteParams };

/** What every view gets: the shared stream and the reference data, fetched once. */
export interface AppContext {
  readonly stream: LiveStream;
  symbols(): Promise<SymbolRow[]>;
}

/** A screen of the dashboard. `mount` may be called again with other params after `unmount`. */
export interface View {
  mount(root: HTMLElement, params: RouteParams): void | Promise<void>;
  unmount(): void;
}

export function createContext(stream: LiveStream): AppContext {
  let symbols: Promise<SymbolRow[]> | null = null;
  const load = (): Promise<SymbolRow[]> => {
    symbols ??= getJson<SymbolRow[]>('/api/symbols').catch((err: unknown) => {
      symbols = null;
      throw err;
    });
    return symbols;
  };
  // Symbols seen only in data appear later: refetch after a reconnect.
  stream.onReconnect(() => {
    symbols = null;
  });
  return {
    stream,
    symbols: load,
  };
}
