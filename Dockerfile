# syntax=docker/dockerfile:1
# ddnsd in a container. Interface sources need the host's network namespace:
#   docker run -d --network host -v /etc/ddnsd:/etc/ddnsd:ro -v ddnsd-state:/var/lib/ddnsd ddnsd
# Stop with SIGTERM (docker stop); reload with `docker kill -s HUP ddnsd`.

FROM rust:1.89-bookworm AS build
WORKDIR /src
# Dependencies first, so source edits do not rebuild them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked && rm -rf src
COPY src ./src
RUN touch src/main.rs src/lib.rs && cargo build --release --locked

FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 ddnsd \
    && useradd --system --uid 10001 --gid ddnsd --home-dir /var/lib/ddnsd --shell /usr/sbin/nologin ddnsd \
    && mkdir -p /var/lib/ddnsd /etc/ddnsd \
    && chown ddnsd:ddnsd /var/lib/ddnsd && chmod 0700 /var/lib/ddnsd
COPY --from=build /src/target/release/ddnsd /usr/bin/ddnsd
USER ddnsd:ddnsd
ENV DDNSD_CONFIG=/etc/ddnsd/ddnsd.toml RUST_BACKTRACE=0
VOLUME ["/var/lib/ddnsd"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/ddnsd"]
CMD ["run"]
