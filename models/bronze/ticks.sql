-- Every event the log accepted (trades, quotes, bars), as the bronze writer landed it in Parquet:
-- lake/bronze/ticks/date=<UTC date>/symbol=<S>/ticks-p<P>-<first>-<last>.parquet.
SELECT * FROM {{ source('ticks') }}
