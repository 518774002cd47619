#!/usr/bin/env bash
# Connection settings for the local services of deploy/local (kafka.sh, postgres.sh, redis.sh,
# s3.sh), as the tests and the app read them. Source it:
#   source deploy/local/env.sh
# or run it to print the export lines (`eval "$(deploy/local/env.sh)"`). It only exports
# variables (no `set -e` or other shell options), so it is safe in an interactive shell. Honours
# the scripts' port overrides: STOCKSTREAM_KAFKA_PORT (19092), STOCKSTREAM_PG_PORT (15432),
# STOCKSTREAM_REDIS_PORT (16379), STOCKSTREAM_S3_PORT (19000), and STOCKSTREAM_S3_BUCKET /
# _ACCESS_KEY_ID / _SECRET_ACCESS_KEY / _REGION if already set.
# The config loader (src/shared/config/load-config.ts) skips these names (NOT_CONFIG): it reads
# other STOCKSTREAM_* variables as settings.

export STOCKSTREAM_KAFKA_BROKERS="127.0.0.1:${STOCKSTREAM_KAFKA_PORT:-19092}"
export STOCKSTREAM_PG_URL="postgres://stockstream:stockstream@127.0.0.1:${STOCKSTREAM_PG_PORT:-15432}/stockstream"
export STOCKSTREAM_REDIS_URL="redis://127.0.0.1:${STOCKSTREAM_REDIS_PORT:-16379}"
export STOCKSTREAM_S3_ENDPOINT="http://127.0.0.1:${STOCKSTREAM_S3_PORT:-19000}"
export STOCKSTREAM_S3_BUCKET="${STOCKSTREAM_S3_BUCKET:-stockstream}"
export STOCKSTREAM_S3_ACCESS_KEY_ID="${STOCKSTREAM_S3_ACCESS_KEY_ID:-stockstream}"
export STOCKSTREAM_S3_SECRET_ACCESS_KEY="${STOCKSTREAM_S3_SECRET_ACCESS_KEY:-stockstream-secret}"
export STOCKSTREAM_S3_REGION="${STOCKSTREAM_S3_REGION:-us-east-1}"

# Run rather than sourced: print the settings, e.g. for `eval "$(deploy/local/env.sh)"`.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  env | grep -E '^STOCKSTREAM_(KAFKA_BROKERS|PG_URL|REDIS_URL|S3_(ENDPOINT|BUCKET|ACCESS_KEY_ID|SECRET_ACCESS_KEY|REGION))=' |
    sort | sed "s/^\([^=]*\)=\(.*\)$/export \1='\2'/"
fi
