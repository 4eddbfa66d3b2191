# sfbridge as a container sidecar (see README "Container image"). Built and smoke-tested by
# ./scripts/container, which makes the two Debian base images from Debian's own packages.
#
#   docker build -t sfbridge .      (or: buildah bud --isolation chroot -t sfbridge .)
#   docker run -e DATABASE_URL=... -e SALESFORCE_...=... -v ./mappings.json:/config/mappings.json sfbridge
#
# Configured by environment variables only (sfbridge --help lists them); the mapping file is
# mounted at /config/mappings.json.

FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        g++ cmake ninja-build pkg-config libboost1.81-dev libssl-dev libpq-dev libsimdjson-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The product and sfsim only (no tests, no benchmarks); sfsim's objects where the image keeps them.
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSFBRIDGE_TESTS=OFF \
        -DSFBRIDGE_BENCH=OFF -DSFSIM_SCHEMA_DIR=/usr/share/sfsim/schema \
 && cmake --build /build --target sfbridge sfsim \
 && strip /build/bridge/sfbridge /build/sim/sfsim

FROM debian:bookworm-slim
# The runtime libraries the binaries link (libstdc++ is in the base), CA certificates for
# Salesforce's TLS, and tini as PID 1: it forwards SIGTERM, so the drain runs, and reaps.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpq5 libssl3 libsimdjson14 ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
 && useradd --system --uid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin sfbridge
COPY --from=build /build/bridge/sfbridge /build/sim/sfsim /usr/local/bin/
COPY --from=build /src/sim/schema /usr/share/sfsim/schema
# No mapping file of its own: a run without one mounted at /config/mappings.json stops with a
# clear error rather than syncing an example's objects into someone's database and org.
USER 10001
# The endpoint on every address of the container, so the orchestrator's probes reach it; set
# SFBRIDGE_HTTP_TOKEN to require a bearer token for everything but /healthz and /readyz.
ENV SFBRIDGE_HTTP=0.0.0.0:9090 \
    SFBRIDGE_LOG_FORMAT=json
EXPOSE 9090
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["sfbridge", "health"]
ENTRYPOINT ["/usr/bin/tini", "--", "sfbridge"]
CMD ["run", "--mappings", "/config/mappings.json"]
