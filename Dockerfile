# ddnsd in a container: a release binary built on the host (static musl, or glibc with its
# loader and libraries), the CA bundle rustls needs for HTTPS providers, a non-root user and a
# volume for state, on `scratch` (no shell, no package manager). scripts/test-container builds
# and checks it; by hand:
#
#   cargo build --release --target x86_64-unknown-linux-musl     # or just --release (glibc)
#   docker build --build-arg BINARY=target/x86_64-unknown-linux-musl/release/ddnsd -t ddnsd .
#   docker run -d --name ddnsd --network host \
#       -v /etc/ddnsd/ddnsd.toml:/etc/ddnsd/ddnsd.toml:ro -v ddnsd-state:/var/lib/ddnsd ddnsd
#
# The config is read from the default path, /etc/ddnsd/ddnsd.toml: mount yours there. Without
# one, ddnsd runs its embedded default (a dry run that publishes nothing). Interface sources
# need --network host (netlink shows a container only its own namespace). ddnsd handles
# SIGTERM itself, also as PID 1 (docker stop); `docker kill -s HUP ddnsd` reloads the config.

# Any Debian-like image with a shell and ldd; BASE=local/debian:bookworm when Docker Hub is out
# of reach (scripts/test-container makes one with debootstrap).
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS rootfs
ARG BINARY=target/release/ddnsd
COPY ${BINARY} /rootfs/usr/bin/ddnsd
# A glibc binary takes along what ldd lists (loader, libc, libgcc_s); a static one nothing.
RUN set -e; \
    if [ ! -f /etc/ssl/certs/ca-certificates.crt ]; then \
        apt-get update && apt-get install -y --no-install-recommends ca-certificates; \
    fi; \
    mkdir -p /rootfs/etc/ssl/certs /rootfs/etc/ddnsd /rootfs/var/lib/ddnsd; \
    cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/; \
    echo 'ddnsd:x:10001:10001:ddnsd:/var/lib/ddnsd:/nonexistent' > /rootfs/etc/passwd; \
    echo 'ddnsd:x:10001:' > /rootfs/etc/group; \
    for lib in $(ldd /rootfs/usr/bin/ddnsd 2>/dev/null | grep -o '/[^ ]*' || true); do \
        cp --parents -L "$lib" /rootfs; \
    done; \
    chown 10001:10001 /rootfs/var/lib/ddnsd; \
    chmod 0700 /rootfs/var/lib/ddnsd

FROM scratch
COPY --from=rootfs /rootfs/ /
USER 10001:10001
VOLUME ["/var/lib/ddnsd"]
ENV RUST_BACKTRACE=0
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/ddnsd"]
CMD ["run"]
