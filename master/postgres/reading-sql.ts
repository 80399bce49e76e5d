import type postgres from "postgres";
import { NUMERIC_KINDS, VALUE_KIND } from "../readings/value-kind.js";
import type { Row } from "./rows.js";

/** SQL and helpers the readings queries and the rollup queries share. */

export const NUMERIC = `kind IN (${NUMERIC_KINDS.join(", ")})`;
/**
 * A numeric reading as a double: uint64 back from its two's complement, NaN as NULL so
 * aggregates skip it as SQLite's (which keeps NaN as NULL) do.
 */
export const AS_DOUBLE = `CASE WHEN kind = ${VALUE_KIND.float64} THEN NULLIF(v_double, 'NaN'::float8)
  WHEN kind = ${VALUE_KIND.uint64} AND v_int < 0 THEN v_int::float8 + 18446744073709551616::float8
  ELSE v_int::float8 END`;

/** One page, its rows read at once: a prepared statement unless `prepare` is false. */
export async function page(
  sql: postgres.Sql,
  text: string,
  params: unknown[],
  prepare = true,
): Promise<Row[]> {
  return (await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], {
    prepare,
  })) as unknown as Row[];
}
