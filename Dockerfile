# thoughtspot-bff image. The same image runs the BFF (default CMD) and the ThoughtSpot simulator
# for local use (CMD ["node", "dist/src/simulator/main.js"], see docker-compose.yml).
#
#   docker build -t thoughtspot-bff .
#
# Configuration comes from the environment (SPEC §2): TS_HOST, TS_SECRET_KEY_FILE,
# SESSION_SECRET_FILE, IDENTITY_*, BFF_CONFIG, BFF_MAPPING, ... NODE_ENV=production is set, so a
# missing required setting stops the start with one line on stderr. Check a mapping file with
# `node dist/src/mapping/cli.js check` (tsx and `npm run mapping` are dev-only).

# ---- build: compile TypeScript with the full dev toolchain ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts/build-front-end.ts scripts/ensure-build.mjs ./scripts/
RUN npm run build

# ---- runtime: production dependencies and the compiled output only ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# config/default.yaml and config/mapping.yaml are the defaults of BFF_CONFIG and BFF_MAPPING.
COPY config ./config
# The demo page and the simulator's embed app are bundled into dist/front-end (copied above).
# Files stay owned by root (read-only for the app); the process runs unprivileged.
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1)).catch(() => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
