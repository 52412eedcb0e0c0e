#!/usr/bin/env bash
# The base image of the test images: Debian's static busybox and its applet links, nothing else, imported with
# `docker import` because no registry is reachable (FIELD-NOTES "Docker"). Called by ../build-images.sh with IMAGE set.
set -euo pipefail
busybox=/bin/busybox
[[ -x $busybox ]] || { echo "busybox/build.sh: $busybox missing: install the Debian package busybox-static" >&2; exit 1; }
# Debian's dynamic busybox would need its libraries in the image.
file -L "$busybox" 2>/dev/null | grep -q 'dynamically linked' && { echo "busybox/build.sh: $busybox is not static: install busybox-static" >&2; exit 1; }

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/bin" "$rootfs/input" "$rootfs/output" "$rootfs/tmp" "$rootfs/etc"
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list-full); do
  [[ $applet == bin/busybox ]] && continue
  mkdir -p "$rootfs/$(dirname "$applet")"
  ln -sf /bin/busybox "$rootfs/$applet"
done
# Names for the uids containers run as (the runner's default is nobody, 65534), so `id` and `ls -l` print them.
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"

tar --numeric-owner --owner=0 --group=0 -C "$rootfs" -c . |
  "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/sh"]' \
    --message "busybox-static $("$busybox" | head -n 1 | cut -d' ' -f2)" \
    - "$IMAGE" >/dev/null
