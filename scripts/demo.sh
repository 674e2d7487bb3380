#!/usr/bin/env bash
# Set up this host (idempotently), then show Dockyard's main job end to end: make a base image
# from the host's static busybox, build a two-stage web app, run it with a published port and
# ask it over HTTP, look at it (ps, logs, top, exec), build again from the cache, run an
# api + ui pair on a user network where only ui is published, save the image, and clean up
# everything it made. Uses its own data root (DOCKYARD_ROOT, default ./demo-root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DOCKYARD_ROOT=${DOCKYARD_ROOT:-$PWD/demo-root}
PORT=${DEMO_PORT:-5000}
UI_PORT=${DEMO_UI_PORT:-5001}
dy=$PWD/.venv/bin/dockyard
work=$(mktemp -d)

say() { printf '\n\033[1m+ %s\033[0m\n' "$*"; }
cleanup() {
  "$dy" rm -f demo-web demo-api demo-ui >/dev/null 2>&1 || true
  "$dy" network rm demo-net >/dev/null 2>&1 || true
  "$dy" rmi -f demo-app:1 demo-api:1 busybox:latest >/dev/null 2>&1 || true
  "$dy" system prune -f >/dev/null 2>&1 || true
  # the default bridge outlives its containers, as docker0 does: the demo takes it down too
  .venv/bin/python -c 'import sys
from dockyard.service.engine import Engine
from dockyard.service.settings import Settings
Engine(Settings.resolve(sys.argv[1])).networks.manager.prune_default()' "$DOCKYARD_ROOT" || true
  rm -rf "$work"
}
trap cleanup EXIT

# 1. A base image: busybox and its applets, /etc/passwd, /tmp.
mkdir -p "$work/rootfs"/{bin,etc,tmp,root}
cp /bin/busybox "$work/rootfs/bin/busybox"
for applet in $("$work/rootfs/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$work/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$work/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$work/rootfs/etc/group"
chmod 1777 "$work/rootfs/tmp"
tar -C "$work/rootfs" -cf "$work/busybox.tar" .
say "dockyard import busybox.tar busybox:latest"
"$dy" import -c 'CMD ["sh"]' "$work/busybox.tar" busybox:latest

# 2. A two-stage web app: the build stage makes the site, the final stage serves it.
mkdir -p "$work/app"
cat > "$work/app/Dockerfile" <<'EOF'
FROM busybox AS build
WORKDIR /src
COPY greeting.txt .
RUN mkdir -p /out && sed 's/^/hello from /' greeting.txt > /out/hello && date -u > /out/built-at

FROM busybox
LABEL org.opencontainers.image.title="dockyard demo"
COPY --from=build /out /www
EXPOSE 80
ENTRYPOINT ["httpd", "-f", "-v", "-p", "80", "-h", "/www"]
EOF
echo "a container built by Dockyard" > "$work/app/greeting.txt"
say "dockyard build -t demo-app:1 app/"
"$dy" build --progress plain -t demo-app:1 "$work/app"

say "dockyard run -d --name demo-web -p $PORT:80 demo-app:1"
"$dy" run -d --name demo-web -p "$PORT:80" demo-app:1
say "curl http://localhost:$PORT/hello"
for _ in $(seq 50); do curl -fsS "http://localhost:$PORT/hello" 2>/dev/null && break; sleep 0.1; done
say "dockyard ps"
"$dy" ps
say "dockyard logs demo-web"
"$dy" logs demo-web
say "dockyard top demo-web   (PID is the host's)"
"$dy" top demo-web
say "dockyard exec demo-web ls -l /www"
"$dy" exec demo-web ls -l /www

# 3. The layer cache: a second build of the same context reuses every step.
say "dockyard build -t demo-app:1 app/   (again: every step CACHED)"
"$dy" build --progress plain -t demo-app:1 "$work/app"
say "dockyard history demo-app:1"
"$dy" history demo-app:1

# 4. Two services on a user network: ui finds api by name; only ui publishes a port.
mkdir -p "$work/api" "$work/ui"
cat > "$work/api/Dockerfile" <<'EOF'
FROM busybox
RUN mkdir -p /www && echo "the api says: 42" > /www/answer
ENTRYPOINT ["httpd", "-f", "-p", "80", "-h", "/www"]
EOF
say "dockyard build -t demo-api:1 api/"
"$dy" build -q -t demo-api:1 "$work/api"
say "dockyard network create demo-net"
"$dy" network create demo-net
say "dockyard run -d --name demo-api --network demo-net demo-api:1   (no published port)"
"$dy" run -d --name demo-api --network demo-net demo-api:1
say "dockyard run -d --name demo-ui --network demo-net -p $UI_PORT:80 busybox  (a CGI that asks http://demo-api/)"
"$dy" run -d --name demo-ui --network demo-net -p "$UI_PORT:80" busybox sh -c '
  mkdir -p /www/cgi-bin
  printf "#!/bin/sh\necho Content-Type: text/plain\necho\necho ui relays: \$(wget -qO- http://demo-api/answer)\n" > /www/cgi-bin/answer
  chmod +x /www/cgi-bin/answer
  exec httpd -f -p 80 -h /www'
say "curl http://localhost:$UI_PORT/cgi-bin/answer"
for _ in $(seq 50); do curl -fsS "http://localhost:$UI_PORT/cgi-bin/answer" 2>/dev/null && break; sleep 0.1; done
say "dockyard port demo-ui; dockyard port demo-api"
"$dy" port demo-ui
"$dy" port demo-api || true

# 5. The image as an archive that `docker load` reads.
say "dockyard save -o $work/demo-app.tar demo-app:1; tar -tf demo-app.tar"
"$dy" save -o "$work/demo-app.tar" demo-app:1
tar -tf "$work/demo-app.tar"

say "clean up: rm -f, network rm, rmi, system prune"
cleanup
trap - EXIT
echo "demo: done; nothing is left behind ($DOCKYARD_ROOT holds only empty stores)"
