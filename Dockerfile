# syntax=docker/dockerfile:1
# Production images for the API and the worker, from one build, and the one-shot setup of a deployment.
#   docker build --target api -t latchkey-api .
#   docker build --target worker -t latchkey-worker .
#   docker build --target setup -t latchkey-setup .   (certificates for Temporal mTLS, latchkey's keys)

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY apps apps
COPY workflows workflows
COPY activities activities
COPY contracts contracts
COPY domain domain
COPY trust trust
COPY audit audit
COPY config config
COPY policy policy
COPY onepassword onepassword
COPY targets targets
COPY codec codec
COPY notify notify
COPY devstack devstack
COPY tools tools
COPY portal portal
RUN npm run build \
 # Bundle the workflow code once at build time, so workers start fast and run exactly what was built.
 && node dist/apps/worker/bundle.js dist/workflow-bundle.js \
 && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
RUN groupadd --system latchkey && useradd --system --gid latchkey --home /app latchkey \
 && mkdir -p /var/lib/latchkey && chown latchkey:latchkey /var/lib/latchkey
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/config config
ENV LATCHKEY_DATA_DIR=/var/lib/latchkey
USER latchkey

FROM runtime AS api
EXPOSE 3000
ENV LATCHKEY_API_HOST=0.0.0.0 LATCHKEY_API_PORT=3000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:3000/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/apps/api/main.js"]

FROM runtime AS worker
ENV LATCHKEY_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
# Two malloc arenas, not eight per core: the worker's threads keep less memory (apps/worker/process-env.ts).
ENV MALLOC_ARENA_MAX=2
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:9464/metrics').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/apps/worker/main.js"]

# One-shot, run by docker-compose.yml before anything else: a private CA and one certificate per Temporal party
# (openssl), then latchkey's command signing key, the set that trusts it and the codec key (`latchkey keys
# init`). It keeps whatever already exists, and hands each file to the user of the service that reads it.
FROM runtime AS setup
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssl \
 && rm -rf /var/lib/apt/lists/*
COPY deploy/setup /app/deploy/setup
ENTRYPOINT ["/bin/sh", "/app/deploy/setup/setup.sh"]
