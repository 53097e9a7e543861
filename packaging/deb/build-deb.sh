#!/usr/bin/env bash
# Builds vigil_<version>_<arch>.deb from a release binary with dpkg-deb.
#   packaging/deb/build-deb.sh BINARY OUTDIR
# Why dpkg-deb and not debhelper: the binary comes from SwiftPM (`make release`), not
# from a Debian source package; debhelper would need a debian/ source tree and its
# build-dependencies for what is a handful of files. The parts debhelper would do for
# us are the ones done here with Debian's own tools: dpkg-shlibdeps computes Depends,
# strip as dh_strip does, gzip -9n as dh_compress does, dpkg-deb --root-owner-group.
# Architecture-neutral: the package's architecture is read from the binary's ELF
# header, so a binary built on (or for) arm64 or armhf packages as such.
set -euo pipefail
binary=$1 outdir=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

version=$("$binary" --version | awk '{ print $2 }')
machine=$(readelf -h "$binary" | sed -n 's/^ *Machine: *//p')
case "$machine" in
    *X86-64*) arch=amd64 ;;
    *AArch64*) arch=arm64 ;;
    *ARM*) arch=armhf ;;
    *RISC-V*) arch=riscv64 ;;
    *) echo "build-deb: no Debian architecture known for ELF machine '$machine'" >&2; exit 2 ;;
esac

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
root=$work/vigil
install -d "$root/DEBIAN"

install -D -m 0755 "$binary" "$root/usr/bin/vigil"
strip --strip-unneeded --remove-section=.comment "$root/usr/bin/vigil"
for d in Profiles Boards Examples; do
    install -d "$root/usr/share/vigil/$d"
    install -m 0644 "$repo/$d"/* "$root/usr/share/vigil/$d/"
done
install -D -m 0644 "$repo/systemd/vigil.service" "$root/lib/systemd/system/vigil.service"
install -D -m 0644 "$repo/systemd/vigil.sysusers.conf" "$root/usr/lib/sysusers.d/vigil.conf"
install -D -m 0644 "$repo/systemd/vigil.tmpfiles.conf" "$root/usr/lib/tmpfiles.d/vigil.conf"
install -D -m 0644 "$repo/systemd/vigil.udev.rules" "$root/lib/udev/rules.d/60-vigil.rules"
install -D -m 0644 "$here/vigil.json5" "$root/etc/vigil/vigil.json5"
install -D -m 0644 "$repo/completions/vigil.bash" "$root/usr/share/bash-completion/completions/vigil"
install -d "$root/usr/share/man/man1"
"$binary" help --man | gzip -9n > "$root/usr/share/man/man1/vigil.1.gz"
doc=$root/usr/share/doc/vigil
install -D -m 0644 "$here/copyright" "$doc/copyright"
install -m 0644 "$repo/README.md" "$repo"/docs/*.md "$doc/"
gzip -9n "$doc"/*.md
# The changelog Debian wants of a native package: one entry per version (the project's history is its git log).
date=$(git -C "$repo" log -1 --format=%aD 2>/dev/null || date -R)
printf 'vigil (%s) unstable; urgency=medium\n\n  * Release %s: see /usr/share/doc/vigil/README.md.gz.\n\n -- Vigil maintainers <vigil@example.net>  %s\n' \
    "$version" "$version" "$date" | gzip -9n > "$doc/changelog.gz"
find "$root" -type d -exec chmod 0755 {} +

# Depends: what the binary links (dpkg-shlibdeps reads its NEEDED entries), plus what
# it dlopens: libcurl4 for the HTTP uplink, libmosquitto1 for MQTT, libssl3 (libcrypto)
# for Alink's signed login. All in Depends, not
# Recommends: the uplink is the agent's job, and a missing one would show only at run
# time, on site. systemd: the postinst's sysusers/tmpfiles and the unit itself.
mkdir -p "$work/debian"
printf 'Source: vigil\n\nPackage: vigil\nArchitecture: any\n' > "$work/debian/control"
# (Its warning that the binary is not yet installed in a package build tree does not apply here.)
shlibs=$(cd "$work" && dpkg-shlibdeps -O -e vigil/usr/bin/vigil 2> >(grep -v "should already be installed" >&2) | sed -n 's/^shlibs:Depends=//p')
depends="$shlibs, libcurl4, libmosquitto1, libssl3, systemd"

install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$root/DEBIAN/"
echo /etc/vigil/vigil.json5 > "$root/DEBIAN/conffiles"
(cd "$root" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\0' | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: vigil
Version: $version
Architecture: $arch
Maintainer: Vigil maintainers <vigil@example.net>
Installed-Size: $size
Depends: $depends
Section: admin
Priority: optional
Description: edge agent for Modbus gas, level and smoke sensors
 Vigil runs on Linux field gateways: it polls Modbus RTU and TCP gas
 detectors, water-level transmitters and smoke alarms, and dry contacts on
 GPIO; raises alarms at the edge and drives sirens and valves; keeps every
 reading in a crash-safe journal while the network is down; and forwards it
 over HTTP or MQTT (ThingsBoard, Sparkplug B, InfluxDB line protocol).
 .
 The service is enabled on install but not started: edit
 /etc/vigil/vigil.json5, check it with "vigil config check --as-service",
 then start it with "systemctl start vigil".
CONTROL

mkdir -p "$outdir"
deb="$outdir/vigil_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
