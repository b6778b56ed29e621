# syntax=docker/dockerfile:1
#
# The portal as a container: a release build on Debian bookworm, run as an
# unprivileged user on bookworm-slim with the templates, assets, seed data and
# translations beside it.
#
#   docker build -t portal .
#   docker run --rm -p 8080:8080 portal                       # embedded SQLite
#   docker run --rm -p 8080:8080 -e DATABASE_URL=postgres://… portal
#
# See docker-compose.yml for PostgreSQL + a mail catcher.

# --- build -------------------------------------------------------------------
FROM rust:1-bookworm AS builder

# libpq for diesel's PostgreSQL backend (SQLite is compiled in, bundled).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# The registry and target caches survive between builds (BuildKit).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin portal \
    && install -m 0755 target/release/portal /usr/local/bin/portal

# --- run ---------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --shell /usr/sbin/nologin portal

WORKDIR /app
COPY --from=builder /usr/local/bin/portal /usr/local/bin/portal
COPY templates/ /app/templates/
COPY assets/ /app/assets/
COPY data/ /app/data/
COPY locales/ /app/locales/
# var/ holds the default SQLite database; the only place the portal writes.
RUN mkdir -p /app/var && chown portal:portal /app/var

# Set PORTAL_PUBLIC_URL to the address people use (https://… turns on Secure
# cookies and HSTS); the default suits `docker run -p 8080:8080` on one's own machine.
ENV PORTAL_BIND=0.0.0.0:8080 \
    PORTAL_PUBLIC_URL=http://localhost:8080 \
    DATABASE_URL=sqlite:///app/var/portal.db \
    PORTAL_DATA_DIR=/app/data \
    PORTAL_TEMPLATES_DIR=/app/templates \
    PORTAL_ASSETS_DIR=/app/assets \
    PORTAL_LOCALES_DIR=/app/locales \
    PORTAL_LOG_FORMAT=json \
    RUST_LOG=info

USER portal:portal
EXPOSE 8080
VOLUME ["/app/var"]

# `portal` = migrate, seed (idempotent) and serve; `migrate` and `seed` also work.
ENTRYPOINT ["/usr/local/bin/portal"]
CMD ["serve"]
