# The vendorscan image: one image for the API, the workers and the scheduler
# (docker-compose.yml runs all three from it). Multi-stage: the first stage installs the
# production dependencies only (`npm ci --omit=dev`), the second adds the decompressors and the
# sources and runs as an unprivileged user. Nothing is installed when a container starts.
# syntax=docker/dockerfile:1

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
# xz, zstd and bzip2: the native decompressors (several times faster than the in-process fallbacks);
# zstd also decodes xz, under util-linux's prlimit (in the base image), xz where it refuses a stream.
RUN apt-get update \
 && apt-get install -y --no-install-recommends xz-utils zstd bzip2 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    NODE_COMPILE_CACHE=/app/.node-compile-cache \
    VENDORSCAN_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8080
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY errors ./errors
COPY nix ./nix
COPY formats ./formats
COPY archive ./archive
COPY cache ./cache
COPY decompress ./decompress
COPY yara ./yara
COPY signatures ./signatures
COPY advisories ./advisories
COPY scanner ./scanner
COPY store ./store
COPY migrations ./migrations
COPY workers ./workers
COPY services ./services
COPY dashboard ./dashboard
COPY cli ./cli
COPY examples ./examples
# A smoke test that also fills Node's compile cache (stripped and compiled modules, main and scan
# threads), so a container's first command starts as fast as later ones.
RUN node --wasm-tier-up-filter=26 --wasm-eager-tier-up-function=26 bin/vendorscan.mjs --help >/dev/null \
 && node --wasm-tier-up-filter=26 --wasm-eager-tier-up-function=26 bin/vendorscan.mjs scan --no-store --no-progress --cache examples/demo-cache --paths examples/demo-cache/store-paths.txt >/dev/null \
 && mkdir -p /data \
 && chown -R node:node /data /app/.node-compile-cache
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/app/bin/healthcheck.mjs", "http://127.0.0.1:8080/healthz"]
# The V8 flags of bin/v8-flags.mjs (PGlite's WebAssembly stays unoptimised, the xz decoder's loop is optimised).
ENTRYPOINT ["node", "--wasm-tier-up-filter=26", "--wasm-eager-tier-up-function=26", "/app/bin/vendorscan.mjs"]
CMD ["serve"]
