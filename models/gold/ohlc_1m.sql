-- One-minute OHLCV bars from silver: the same buckets and rules as the live 1m candles
-- (src/processors/candles): trades, and 1s/1m bars, inside regular windows (auctions included);
-- buckets step from each window's open and are cut at its end; open is the earliest event
-- (ties: first in the log), close the latest (ties: last in the log); turnover sums
-- price × size (typical price × volume for bars) in log order, as the live operator does.
-- Corrections (a repeated id with other values) are left out, as the live dedup drops them.
-- Incremental: only the minutes that received new silver rows are recomputed, from all their rows.
WITH eligible AS (
  SELECT
    symbol, date, ts, log_partition, log_offset, window_start, window_end, day_start, day_end,
    window_start + ((ts - window_start) // 60000) * 60000 AS start,
    CASE WHEN kind = 'trade' THEN price ELSE open END AS o,
    CASE WHEN kind = 'trade' THEN price ELSE high END AS h,
    CASE WHEN kind = 'trade' THEN price ELSE low END AS l,
    CASE WHEN kind = 'trade' THEN price ELSE close END AS c,
    CASE WHEN kind = 'trade' THEN size ELSE volume END AS v,
    CASE WHEN kind = 'trade' THEN price * size ELSE ((high + low + close) / 3) * volume END AS pv
  FROM {{ ref('silver.ticks') }}
  WHERE session IN ('regular', 'auction') AND NOT is_correction
    AND (kind = 'trade' OR (kind = 'bar' AND bar_interval IN ('1s', '1m')))
{% if is_incremental() %}
    AND ts >= {{ var('increment_min_ts') }} - 60000
),
touched AS (
  SELECT DISTINCT symbol, window_start + ((ts - window_start) // 60000) * 60000 AS start
  FROM {{ increment('silver.ticks') }}
  WHERE session IN ('regular', 'auction') AND NOT is_correction
    AND (kind = 'trade' OR (kind = 'bar' AND bar_interval IN ('1s', '1m')))
),
rows AS (
  SELECT e.* FROM eligible e SEMI JOIN touched t ON t.symbol = e.symbol AND t.start = e.start
{% else %}
),
rows AS (
  SELECT * FROM eligible
{% endif %}
)
SELECT
  symbol,
  any_value(date) AS date,
  start,
  least(start + 60000, any_value(window_end)) AS "end",
  arg_min(o, (ts, log_partition, log_offset)) AS open,
  max(h) AS high,
  min(l) AS low,
  arg_max(c, (ts, log_partition, log_offset)) AS close,
  sum(v) AS volume,
  sum(pv ORDER BY log_partition, log_offset) AS turnover,
  CASE WHEN sum(v) > 0 THEN sum(pv ORDER BY log_partition, log_offset) / sum(v) ELSE arg_max(c, (ts, log_partition, log_offset)) END AS vwap,
  CAST(count(*) AS BIGINT) AS trades,
  max(ts) AS last_ts,
  any_value(window_start) AS window_start,
  any_value(day_start) AS day_start,
  any_value(day_end) AS day_end
FROM rows
GROUP BY symbol, start
ORDER BY start, symbol
