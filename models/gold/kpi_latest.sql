-- The latest KPIs per symbol, as the live KPI operator defines them: last price, change and
-- change % against the previous session's close, the session's OHLC, volume, VWAP and trades.
WITH ranked AS (
  SELECT d.*,
    lag(close) OVER (PARTITION BY symbol ORDER BY date) AS prev_close,
    row_number() OVER (PARTITION BY symbol ORDER BY date DESC) AS recency
  FROM {{ ref('gold.ohlc_daily') }} d
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
