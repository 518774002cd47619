import { StockStreamError } from '../../shared/errors.js';

/**
 * Reading snapshots back: a checkpoint comes from disk, so every field is checked and a bad one
 * is reported by name (SS_PROCESS_STATE) instead of silently corrupting the running sums.
 */
export type StateRecord = Record<string, unknown>;

export function stateError(spec: string, what: string): StockStreamError {
  return new StockStreamError(
    'SS_PROCESS_STATE',
    `indicator "${spec}": cannot restore snapshot, ${what}; restore only a snapshot() taken from an indicator with the same spec`,
    { context: { spec } },
  );
}

export function readState(spec: string, state: unknown): StateRecord {
  if (typeof state !== 'object' || state === null || Array.isArray(state)) {
    throw stateError(spec, `expected an object, got ${state === null ? 'null' : typeof state}`);
  }
  const rec = state as StateRecord;
  if (rec.spec !== spec) throw stateError(spec, `snapshot is for "${String(rec.spec)}"`);
  return rec;
}

export function stateNumber(spec: string, rec: StateRecord, field: string): number {
  const v = rec[field];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw stateError(spec, `field "${field}" must be a finite number, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A nullable number: NaN (no value yet) is stored as null because JSON has no NaN. */
export function stateNullableNumber(spec: string, rec: StateRecord, field: string): number {
  return rec[field] === null ? Number.NaN : stateNumber(spec, rec, field);
}

export function nanToNull(v: number): number | null {
  return v === v ? v : null;
}

export function stateString(spec: string, rec: StateRecord, field: string): string | undefined {
  const v = rec[field];
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'string') throw stateError(spec, `field "${field}" must be a string or null, got ${JSON.stringify(v)}`);
  return v;
}

export function stateObject(spec: string, rec: StateRecord, field: string): StateRecord {
  const v = rec[field];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw stateError(spec, `field "${field}" must be an object`);
  }
  return v as StateRecord;
}

/** Copies a stored number array into `into`, which fixes the expected length. */
export function stateArrayInto(spec: string, rec: StateRecord, field: string, into: Float64Array): void {
  const v = rec[field];
  if (!Array.isArray(v) || v.length !== into.length) {
    throw stateError(spec, `field "${field}" must be an array of ${into.length} numbers`);
  }
  for (let i = 0; i < into.length; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw stateError(spec, `field "${field}"[${i}] must be a finite number, got ${JSON.stringify(x)}`);
    }
    into[i] = x;
  }
}
