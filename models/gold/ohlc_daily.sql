-- Daily OHLCV per session day (the exchange-local date; first regular open to last close), from
-- the one-minute bars: the same trades as the live 1d candle. Turnover adds the minutes' sums
-- in time order, so vwap may differ from the live one in the last bits (see BENCHMARKS/README).
-- Incremental: only the (symbol, date) whose minutes changed are recomputed.
WITH
{% if is_incremental() %}
touched AS (SELECT DISTINCT symbol, date FROM {{ increment('gold.ohlc_1m') }}),
minutes AS (SELECT m.* FROM {{ ref('gold.ohlc_1m') }} m SEMI JOIN touched t ON t.symbol = m.symbol AND t.date = m.date)
{% else %}
minutes AS (SELECT * FROM {{ ref('gold.ohlc_1m') }})
{% endif %}
SELECT
  symbol,
  date,
  any_value(day_start) AS start,
  any_value(day_end) AS "end",
  arg_min(open, start) AS open,
  max(high) AS high,
  min(low) AS low,
  arg_max(close, start) AS close,
  sum(volume) AS volume,
  sum(turnover ORDER BY start) AS turnover,
  CASE WHEN sum(volume) > 0 THEN sum(turnover ORDER BY start) / sum(volume) ELSE arg_max(close, start) END AS vwap,
  CAST(sum(trades) AS BIGINT) AS trades,
  max(last_ts) AS last_ts
FROM minutes
GROUP BY symbol, date
ORDER BY date, symbol
