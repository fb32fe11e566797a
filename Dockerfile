# syntax=docker/dockerfile:1
#
# Parley in a container: `parley start` as a non-root user, config in /etc/parley.
#
#   docker build -t parley .
#   docker run --rm -v /srv/parley/parley.yaml:/etc/parley/parley.yaml:ro --env-file /srv/parley/parley.env \
#     parley node dist/cli/index.js migrate -c /etc/parley/parley.yaml        (see "Upgrading" in the README)
#   docker run -d --name parley --stop-timeout 40 \
#     -v /srv/parley/parley.yaml:/etc/parley/parley.yaml:ro --env-file /srv/parley/parley.env \
#     -p 9464:9464 parley
#
# The config must listen on all interfaces for /metrics to be scraped from outside the container
# (`http: { listen: 0.0.0.0:9464 }`); secrets come from the environment (${VAR} in the file).
#
# STOP TIMEOUT. On SIGTERM Parley stops reading the outbound stream, lets in-flight submits drain
# for shutdown.grace (10s by default), unbinds and flushes its writes; shutdown.force (30s by
# default) caps the whole stop. The container's stop timeout must be LONGER than shutdown.force,
# or the runtime SIGKILLs Parley in the middle of its stop and submits already on the wire are
# left "possible duplicate". Docker's default is 10s: set 40s (force + 10s of margin), or more if
# you raised shutdown.force:
#   docker run --stop-timeout 40 …  |  docker stop -t 40 parley
#   compose:     stop_grace_period: 40s
#   Kubernetes:  terminationGracePeriodSeconds: 40
#
# Two stages: `builder` installs every dependency, type-checks the sources (the build fails on a
# type error) and compiles them to JavaScript in dist/ (`npm run build`, tsconfig.build.json);
# `runtime` installs the production dependencies only and copies dist/ from the builder. The image
# runs plain JavaScript on Node 22 LTS: tsx and TypeScript are development tools and are not in it.

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS builder
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
RUN npx tsc --noEmit -p . && npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# A dedicated user and group with fixed ids (for file permissions on mounted config), no shell,
# no home directory of its own.
RUN groupadd --system --gid 10001 parley \
 && useradd --system --uid 10001 --gid parley --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin parley \
 && mkdir -p /etc/parley
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=builder /app/bin ./bin
COPY --from=builder /app/dist ./dist
COPY config/parley.example.yaml config/demo.yaml ./config/
# Everything in /app belongs to root and is read-only to Parley; Parley writes no files, so the
# root file system can be read-only.
USER parley
EXPOSE 9464
# Liveness: /healthz answers 200 while the process is alive. There is no curl in the slim image,
# so Node's fetch does the request. PARLEY_HEALTHZ_URL follows a changed http.listen port.
ENV PARLEY_HEALTHZ_URL=http://127.0.0.1:9464/healthz
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.PARLEY_HEALTHZ_URL, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself (parley start installs the handler); a second SIGTERM
# or SIGINT exits at once.
STOPSIGNAL SIGTERM
# --max-semi-space-size=64: a young generation sized for the hot path's batches (src/daemon-node-flags.ts).
CMD ["node", "--max-semi-space-size=64", "dist/cli/index.js", "start", "-c", "/etc/parley/parley.yaml"]
