-- The market treemap: each symbol sized by market capitalisation (last × shares outstanding) and
-- coloured by change %, grouped by exchange and sector; weight is the share of its currency's
-- total capitalisation (USD and VND markets are not summed together).
SELECT
  i.exchange,
  i.currency,
  coalesce(i.sector, 'Other') AS sector,
  k.symbol,
  k.last,
  k.change_pct,
  k.volume,
  k.volume * k.vwap AS turnover,
  k.last * i.shares_outstanding AS market_cap,
  (k.last * i.shares_outstanding) / sum(k.last * i.shares_outstanding) OVER (PARTITION BY i.currency) AS weight
FROM {{ ref('gold.kpi_latest') }} k
JOIN {{ source('instruments') }} i USING (symbol)
ORDER BY i.currency, market_cap DESC
