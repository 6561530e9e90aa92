# netlab in a container: `docker build -t netlab .`, then
#   docker run --rm --privileged -v "$PWD:/work" -w /work netlab test labs/
# Labs are network namespaces, veth pairs, nftables rulesets: the container needs CAP_NET_ADMIN and CAP_SYS_ADMIN
# (--privileged), or — where user namespaces are allowed — a user other than root (--user 1000:1000), which boxes
# every lab in user namespaces of its own. `docker run --rm netlab doctor` says which works. See docs/ci.md.

# Build stage: TypeScript needs the devDependencies; only dist/ and the generated schema/ leave this stage.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY labs ./labs
COPY schema ./schema
COPY libexec ./libexec
RUN npm run build && chmod 0755 dist/cli.js

# Runtime stage: node 20, the system tools labs run (the Debian packages `netlab doctor` names), production
# dependencies only, and what package.json "files" ships: dist, labs, schema, libexec.
FROM node:20-bookworm-slim
LABEL org.opencontainers.image.title="netlab" \
      org.opencontainers.image.description="Network-namespace lab orchestrator: build labs from YAML with iproute2, check connectivity, report" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/node:20-bookworm-slim"
ARG DEBIAN_FRONTEND=noninteractive
# iproute2 (ip, tc), nftables, iputils-ping, curl, dnsmasq-base, tcpdump, socat, procps (sysctl), util-linux
# (unshare, nsenter, setpriv, prlimit), perl (the sandbox's read-only remount); udhcpc (dhcp clients: libvirt-default,
# vmware) and bind9-dnsutils (dig: dns checks) so that every built-in lab and check kind runs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      iproute2 nftables iputils-ping curl dnsmasq-base tcpdump socat procps util-linux perl \
      udhcpc bind9-dnsutils \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/netlab
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY --from=build /src/schema ./schema
COPY labs ./labs
COPY libexec ./libexec
# `netlab` on PATH: node follows the link to dist/cli.js, so labs/ and libexec/ resolve next to it.
RUN ln -s /opt/netlab/dist/cli.js /usr/local/bin/netlab
ENV NODE_ENV=production
WORKDIR /work
ENTRYPOINT ["netlab"]
CMD ["--help"]
