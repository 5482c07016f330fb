# syntax=docker/dockerfile:1
# otel-parity: one image for every role (receive, analyze, serve, lint, …).
#
#   docker build -t otel-parity .
#   docker run --rm -p 8080:8080 -p 4317:4317 -p 4318:4318 otel-parity demo
#
# Build stage: the Rust toolchain the workspace is tested with (rust-version
# in Cargo.toml is the minimum). No protoc is needed (protox compiles the
# protos in Rust); rusqlite's bundled SQLite needs the C compiler the image has.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# Cache mounts keep the registry and the build directory between builds; the
# binary is copied out of the cached target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin otel-parity \
    && install -D -m 0755 target/release/otel-parity /out/otel-parity

# Runtime stage: same Debian release as the builder (glibc), nothing else.
FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 otel-parity \
    && useradd --system --uid 10001 --gid otel-parity --home-dir /var/lib/otel-parity \
       --shell /usr/sbin/nologin otel-parity \
    && install -d -o otel-parity -g otel-parity -m 0750 /var/lib/otel-parity
COPY --from=build /out/otel-parity /usr/local/bin/otel-parity
USER 10001:10001
WORKDIR /var/lib/otel-parity
# 4317 OTLP/gRPC, 4318 OTLP/HTTP (receive, serve, demo); 4319 analyzer push;
# 8080 analyzer HTTP: API, UI, /metrics, /healthz, /readyz.
EXPOSE 4317 4318 4319 8080
VOLUME ["/var/lib/otel-parity"]
ENTRYPOINT ["/usr/local/bin/otel-parity"]
CMD ["analyze", "--data-dir", "/var/lib/otel-parity"]
