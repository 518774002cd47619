/** A SQL string literal: single quotes doubled is the whole of escaping in a standard SQL string. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** sqlString, or NULL for null. */
export function sqlNullable(s: string | null): string {
  return s === null ? 'NULL' : sqlString(s);
}
