-- Data quality per (date, symbol), one row per check:
--   gaps          minutes inside a regular window, between its first and last bar, without a bar
--   flat_bars     one-minute bars with high = low (a single price all minute)
--   duplicates    bronze events dropped by silver as exact repeats
--   corrections   repeats of an id with other values (kept in silver, left out of gold)
--   late_events   events older than the newest seen by more than the allowed lateness
--   outliers      trades beyond outlier_atr_multiple × ATR(14) from the previous trade
--   rejects       dead letters, one row per rule broken (reason = the rule)
-- Counts add up run by run; gaps and flat bars are recomputed for the dates that changed.
WITH
new_silver AS (SELECT * FROM {{ increment('silver.ticks') }}),
new_bronze AS (
  SELECT CAST(b.date AS DATE) AS bdate, b.symbol, count(*) AS n FROM {{ increment('bronze.ticks') }} b GROUP BY ALL
),
counts AS (
  SELECT date, symbol, 'late_events' AS "check", '' AS reason, count(*) FILTER (WHERE is_late) AS value FROM new_silver GROUP BY ALL
  UNION ALL
  SELECT date, symbol, 'corrections', '', count(*) FILTER (WHERE is_correction) FROM new_silver GROUP BY ALL
  UNION ALL
  SELECT date, symbol, 'outliers', '', count(*) FILTER (WHERE is_outlier) FROM new_silver GROUP BY ALL
  UNION ALL
  -- bronze dates are UTC, silver dates are session dates: duplicates are counted on the UTC date.
  SELECT b.bdate, b.symbol, 'duplicates', '', greatest(b.n - coalesce(s.n, 0), 0)
  FROM new_bronze b
  LEFT JOIN (SELECT CAST(to_timestamp(ts / 1000) AS DATE) AS bdate, symbol, count(*) AS n FROM new_silver GROUP BY ALL) s USING (bdate, symbol)
  UNION ALL
  SELECT CAST(to_timestamp(received_at / 1000) AS DATE), coalesce(symbol, '_invalid'), 'rejects', rule, count(*) FROM {{ increment('bronze.rejects') }} GROUP BY ALL
),
accumulated AS (
  SELECT c.date, c.symbol, c."check", c.reason,
{% if is_incremental() %}
    sum(c.value) + coalesce(any_value(t.value), 0) AS value
  FROM counts c
  LEFT JOIN {{ this }} t ON t.date = c.date AND t.symbol = c.symbol AND t."check" = c."check" AND t.reason = c.reason
{% else %}
    sum(c.value) AS value
  FROM counts c
{% endif %}
  GROUP BY c.date, c.symbol, c."check", c.reason
),
touched AS (SELECT DISTINCT date, symbol FROM new_silver),
minutes AS (
  SELECT m.* FROM {{ ref('gold.ohlc_1m') }} m SEMI JOIN touched t ON t.date = m.date AND t.symbol = m.symbol
),
windows AS (
  SELECT date, symbol, window_start,
    CAST((max(start) - min(start)) // 60000 + 1 - count(*) AS BIGINT) AS gaps,
    count(*) FILTER (WHERE high = low) AS flat
  FROM minutes GROUP BY ALL
),
recomputed AS (
  SELECT date, symbol, 'gaps' AS "check", '' AS reason, sum(gaps) AS value FROM windows GROUP BY ALL
  UNION ALL
  SELECT date, symbol, 'flat_bars', '', sum(flat) FROM windows GROUP BY ALL
)
SELECT date, symbol, "check", reason, CAST(value AS BIGINT) AS value FROM accumulated
UNION ALL
SELECT date, symbol, "check", reason, CAST(value AS BIGINT) AS value FROM recomputed
ORDER BY date, symbol, "check", reason
