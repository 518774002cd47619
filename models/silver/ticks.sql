-- Silver ticks: bronze events cleaned for analysis.
--  * deduplicated by (symbol, id): a repeat with the same content is dropped; a repeat with other
--    content is kept and flagged is_correction (gold, like the live candles, keeps the first);
--  * typed and tagged with the exchange session (pre, regular, auction, post, closed), the
--    session date and the window and day bounds candles align to (meta.sessions, built from the
--    same market calendars as the live pipeline);
--  * Vietnamese prices in VND: a VND price below 1,000 is in thousands (some upstreams quote
--    25.5 for 25,500 VND) and is scaled by 1,000 (price_scale says so);
--  * is_late: the event time is older than the newest event time seen before it for its symbol
--    by more than the allowed lateness;
--  * is_outlier: a trade further than outlier_atr_multiple × the mean true range of the one-minute
--    bars in the atr window before it (at least five bars) from the median close of those bars;
--  * dedup and corrections look back dedup_window_ms of event time.
-- Every rule looks back a bounded time, so an incremental run (only the bronze rows new since the
-- last run, plus that much earlier silver for context) gives exactly what a full refresh gives.
WITH inc AS MATERIALIZED (
  -- Read once: the new bronze files are scanned here only.
  SELECT * FROM {{ increment('bronze.ticks') }}
),
typed AS (
  SELECT
    b.symbol, b.ts, b.kind, b.source, b.id, b.conditions, b.bar_interval,
    -- A symbol outside the instrument list trades around the clock in UTC days, as in the live pipeline.
    coalesce(i.exchange, 'CRYPTO') AS exchange, i.currency, coalesce(i.time_zone, 'UTC') AS time_zone,
    CASE WHEN i.currency = 'VND' AND coalesce(b.price, b.close, least(b.bid, b.ask)) < 1000 THEN 1000 ELSE 1 END AS price_scale,
    b.price, b.size, b.bid, b.ask, b.bid_size, b.ask_size, b.open, b.high, b.low, b.close, b.volume,
    b.log_partition, b.log_offset, b.log_ts
  FROM inc b
  LEFT JOIN {{ source('instruments') }} i USING (symbol)
),
scaled AS (
  SELECT
    * REPLACE (price * price_scale AS price, bid * price_scale AS bid, ask * price_scale AS ask,
               open * price_scale AS open, high * price_scale AS high, low * price_scale AS low, close * price_scale AS close),
    hash(kind, ts, price, size, bid, ask, bid_size, ask_size, open, high, low, close, volume, bar_interval, conditions) AS content_hash
  FROM typed
),
{% if is_incremental() %}
seen AS (
  -- The kept event of each id already in silver, within the dedup window of this increment.
  SELECT DISTINCT ON (symbol, id) symbol, id, ts, content_hash FROM {{ this }}
  WHERE ts >= {{ var('increment_min_ts') }} - {{ var('dedup_window_ms') }} AND NOT is_correction
    AND symbol IN (SELECT DISTINCT symbol FROM inc)
  ORDER BY symbol, id, log_partition, log_offset
),
ctx AS (
  -- Continuity: every silver trade the outlier rule can look back to (two ATR windows).
  SELECT symbol, ts, kind, price, log_partition, log_offset FROM {{ this }}
  WHERE ts >= {{ var('increment_min_ts') }} - 2 * {{ var('atr_window_ms') }} AND NOT is_correction
    AND symbol IN (SELECT DISTINCT symbol FROM inc)
),
prior AS (
  SELECT symbol, last_event_ts FROM {{ source('watermarks') }}
),
{% else %}
seen AS (SELECT NULL::VARCHAR AS symbol, NULL::VARCHAR AS id, NULL::BIGINT AS ts, NULL::UBIGINT AS content_hash WHERE false),
ctx AS (SELECT NULL::VARCHAR AS symbol, NULL::BIGINT AS ts, NULL::VARCHAR AS kind, NULL::DOUBLE AS price, NULL::INTEGER AS log_partition, NULL::BIGINT AS log_offset WHERE false),
prior AS (SELECT NULL::VARCHAR AS symbol, NULL::BIGINT AS last_event_ts WHERE false),
{% endif %}
repeated AS (
  -- Ids seen more than once in this increment: only their rows need ordering (nearly all ids are unique).
  SELECT symbol, id FROM scaled GROUP BY symbol, id HAVING count(*) > 1
),
numbered AS (
  SELECT s.*,
    lag(content_hash) OVER w AS prev_hash,
    lag(ts) OVER w AS prev_ts
  FROM scaled s SEMI JOIN repeated r ON r.symbol = s.symbol AND r.id = s.id
  WINDOW w AS (PARTITION BY s.symbol, s.id ORDER BY s.log_partition, s.log_offset)
  UNION ALL
  SELECT s.*, NULL::UBIGINT AS prev_hash, NULL::BIGINT AS prev_ts
  FROM scaled s ANTI JOIN repeated r ON r.symbol = s.symbol AND r.id = s.id
),
matched AS (
  -- The earlier event with the same id within the dedup window: in silver already, or earlier in this increment.
  SELECT n.* EXCLUDE (prev_hash, prev_ts),
    CASE
      WHEN p.id IS NOT NULL AND abs(p.ts - n.ts) <= {{ var('dedup_window_ms') }} THEN p.content_hash
      WHEN n.prev_hash IS NOT NULL AND abs(n.ts - n.prev_ts) <= {{ var('dedup_window_ms') }} THEN n.prev_hash
    END AS earlier_hash
  FROM numbered n
  -- Equalities only in the join (a hash join); the time window is checked above. seen has one row per id.
  LEFT JOIN seen p ON p.symbol = n.symbol AND p.id = n.id
),
kept AS (
  -- An exact repeat is a duplicate and is dropped; a repeat with other values is a correction.
  SELECT * EXCLUDE (earlier_hash), coalesce(earlier_hash <> content_hash, false) AS is_correction
  FROM matched
  WHERE earlier_hash IS NULL OR earlier_hash <> content_hash
),
flow AS (
  -- New rows and their context, in log order per symbol.
  SELECT symbol, ts, kind, price, log_partition, log_offset, false AS is_ctx FROM kept WHERE NOT is_correction
  UNION ALL
  SELECT symbol, ts, kind, price, log_partition, log_offset, true AS is_ctx FROM ctx
),
ordered AS (
  SELECT f.*,
    max(ts) OVER (PARTITION BY symbol ORDER BY log_partition, log_offset ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS max_before,
    (ts // 60000) * 60000 AS minute
  FROM flow f
),
minute_bars AS (
  SELECT symbol, minute, max(price) AS hi, min(price) AS lo, arg_max(price, (ts, log_partition, log_offset)) AS cl
  FROM ordered WHERE kind = 'trade' GROUP BY symbol, minute
),
true_range AS (
  -- Wilder's true range; the previous close is the previous minute's, when that minute traded.
  SELECT b.symbol, b.minute, greatest(b.hi - b.lo, coalesce(abs(b.hi - p.cl), 0), coalesce(abs(b.lo - p.cl), 0)) AS tr
  FROM minute_bars b
  LEFT JOIN minute_bars p ON p.symbol = b.symbol AND p.minute = b.minute - 60000
),
atr AS (
  -- Mean true range of the minutes in the atr window before this one (at least five of them).
  -- ref_price: the median close of those minutes; one spike does not move it, so the trade after
  -- a spike (back to normal) is not flagged too.
  SELECT t.symbol, t.minute, avg(t.tr) OVER w AS atr, count(t.tr) OVER w AS bars, median(b.cl) OVER w AS ref_price
  FROM true_range t
  JOIN minute_bars b ON b.symbol = t.symbol AND b.minute = t.minute
  WINDOW w AS (PARTITION BY t.symbol ORDER BY t.minute RANGE BETWEEN {{ var('atr_window_ms') }} PRECEDING AND 60000 PRECEDING)
),
flags AS (
  SELECT o.symbol, o.log_partition, o.log_offset,
    o.ts < greatest(coalesce(o.max_before, o.ts), coalesce(p.last_event_ts, o.ts)) - {{ var('allowed_lateness_ms') }} AS is_late,
    coalesce(o.kind = 'trade' AND a.bars >= 5 AND a.atr > 0 AND abs(o.price - a.ref_price) > {{ var('outlier_atr_multiple') }} * a.atr, false) AS is_outlier
  FROM ordered o
  LEFT JOIN atr a ON a.symbol = o.symbol AND a.minute = o.minute
  LEFT JOIN prior p ON p.symbol = o.symbol
  WHERE NOT o.is_ctx
)
SELECT
  k.symbol,
  coalesce(s.date, CAST(timezone(k.time_zone, to_timestamp(k.ts / 1000)) AS DATE)) AS date,
  k.ts, k.kind, k.source, k.id,
  k.price, k.size, k.conditions, k.bid, k.ask, k.bid_size, k.ask_size,
  k.bar_interval, k.open, k.high, k.low, k.close, k.volume,
  k.exchange, k.currency, k.price_scale,
  coalesce(s.phase, 'closed') AS session,
  s.window_start, s.window_end, s.day_start, s.day_end,
  coalesce(f.is_late, false) AS is_late,
  k.is_correction,
  coalesce(f.is_outlier, false) AS is_outlier,
  k.content_hash,
  k.log_partition, k.log_offset, k.log_ts
FROM kept k
LEFT JOIN flags f ON f.symbol = k.symbol AND f.log_partition = k.log_partition AND f.log_offset = k.log_offset
LEFT JOIN {{ source('sessions') }} s ON s.exchange = k.exchange AND k.ts >= s.start_ts AND k.ts < s.end_ts
