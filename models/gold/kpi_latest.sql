-- The latest KPIs per symbol, as the live KPI operator defines them: last price, change and
-- change % against the previous session's close, the session's OHLC, volume, VWAP and trades.
-- On the lake's first day the previous close is the reference the live KPIs use too
-- (meta.instruments.previous_close, e.g. the simulator's start prices).
WITH ranked AS (
  SELECT d.*,
    coalesce(lag(d.close) OVER (PARTITION BY d.symbol ORDER BY d.date), i.previous_close) AS prev_close,
    row_number() OVER (PARTITION BY d.symbol ORDER BY d.date DESC) AS recency
  FROM {{ ref('gold.ohlc_daily') }} d
  LEFT JOIN {{ source('instruments') }} i ON i.symbol = d.symbol
)
SELECT
  symbol,
  date,
  close AS last,
  prev_close,
  close - prev_close AS change,
  CASE WHEN prev_close > 0 THEN (close - prev_close) / prev_close * 100 END AS change_pct,
  open, high, low, volume, vwap, trades,
  last_ts AS ts
FROM ranked
WHERE recency = 1
ORDER BY symbol
