# StockStream image: one image for every role (`up --role ingest|process|lake|serve|all`).
# deploy/docker-compose.yml builds it; test/deploy/docker-compose.test.ts checks its structure.
#
#   docker build -t stockstream:local .
#   docker run --rm -p 8080:8080 stockstream:local            # the embedded platform, one process

# --- build: compile TypeScript, then drop the dev dependencies ---------------------------------
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied, and talib (a dev-only
# test oracle) would compile a native addon that needs python3, make and g++. No production
# dependency has an install script (@duckdb/node-bindings ships prebuilt per-platform packages).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
# The dashboard: Vite builds it into dist/web, which the runtime serves at /.
COPY web ./web
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime: compiled code, production node_modules, the shipped SQL models -------------------
FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production \
    STOCKSTREAM_HOST=0.0.0.0 \
    STOCKSTREAM_PORT=8080 \
    STOCKSTREAM_DATA_DIR=/data
WORKDIR /app
# A named volume mounted on /data starts with this directory's owner, so the non-root user can write.
RUN mkdir -p /data && chown node:node /data
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
# The lakehouse finds its models beside package.json (shippedModelsDir in src/lakehouse/lakehouse.ts).
COPY models ./models
USER node
EXPOSE 8080
# node:*-slim has no curl; Node's fetch does the probe. /api/health answers 503 only when down.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.STOCKSTREAM_PORT || 8080) + '/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/stockstream.js"]
CMD ["up"]
