#!/usr/bin/env bash
# Set up this host (idempotently), then run Dockyard's main job: make a base image from the
# host's static busybox, import it, list it, inspect it and save it as a `docker save` archive.
# Uses its own data root (DOCKYARD_ROOT, default ./demo-root) so the host's is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DOCKYARD_ROOT=${DOCKYARD_ROOT:-$PWD/demo-root}
dy=.venv/bin/dockyard
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A minimal root filesystem: busybox and its applets, /etc/passwd, /tmp.
mkdir -p "$work/rootfs"/{bin,etc,tmp,root}
cp /bin/busybox "$work/rootfs/bin/busybox"
for applet in $("$work/rootfs/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$work/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$work/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$work/rootfs/etc/group"
chmod 1777 "$work/rootfs/tmp"
tar -C "$work/rootfs" -cf "$work/busybox.tar" .

echo "+ dockyard import busybox.tar busybox:latest"
$dy import -c 'CMD ["sh"]' "$work/busybox.tar" busybox:latest
echo "+ dockyard images"
$dy images
echo "+ dockyard inspect --format '{{.Id}} {{.Os}}/{{.Architecture}} {{.RootFS.Layers}}' busybox"
$dy inspect --format '{{.Id}} {{.Os}}/{{.Architecture}} {{.RootFS.Layers}}' busybox
echo "+ dockyard save -o busybox-image.tar busybox"
$dy save -o busybox-image.tar busybox
tar -tf busybox-image.tar
echo "demo: busybox-image.tar is a docker-save archive ('docker load -i busybox-image.tar' reads it)"
