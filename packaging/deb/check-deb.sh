#!/usr/bin/env bash
# Installs a vigil .deb into a plain Debian 12 root (debootstrap minbase: no Swift, no
# build tools) and checks what an installer gets: dependencies pulled by apt, the
# binary runs, the sample config passes (also as the service user), the unit verifies,
# the user and groups exist, dpkg knows the conffile and the man page; remove keeps
# /var/lib/vigil, purge deletes it.   packaging/deb/check-deb.sh DEB [ROOT]
# Needs root, debootstrap and a Debian mirror (the one this machine's apt uses).
set -euo pipefail
deb=$(readlink -f "$1") root=${2:-/var/tmp/vigil-deb-check}
base=${DEB_CHECK_BASE:-/var/tmp/vigil-deb-base}
command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
unmount() { for m in dev proc; do mountpoint -q "$root/$m" && umount "$root/$m"; done; true; }
if [ ! -e "$base/.ready" ]; then
    rm -rf "$base"; mkdir -p "$base"
    # The mirror this machine's apt uses: deb822 sources (Debian 12's default) or a sources.list line.
    mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs: *//p' | grep -v security | head -1 || true)
    [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $0 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
    debootstrap --variant=minbase bookworm "$base" ${mirror:+"$mirror"} >"$base.log" 2>&1 || { tail -20 "$base.log"; exit 1; }
    cp /etc/resolv.conf "$base/etc/resolv.conf"
    touch "$base/.ready"
fi
unmount; rm -rf "$root"; cp -a "$base" "$root"
trap unmount EXIT
mount -t proc proc "$root/proc"; mount --bind /dev "$root/dev"
cp "$deb" "$root/tmp/"
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEB="/tmp/$(basename "$deb")" bash -s <<'CHECKS'
set -u
failures=0
check() { local what=$1; shift; if out=$("$@" 2>&1); then echo "ok    $what"; else echo "FAIL  $what"; echo "$out" | sed 's/^/      /' | tail -15; failures=$((failures + 1)); fi; }
version=$(dpkg-deb -f "$DEB" Version)
test -e /usr/bin/swift && { echo "FAIL  the root has Swift"; exit 1; }
check "apt-get installs the package and its Depends ($(dpkg-deb -f "$DEB" Depends))" \
    sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$DEB"'
check "vigil --version says $version" sh -c "vigil --version | grep -qx 'vigil $version'"
check "every shared library resolves" sh -c '! ldd /usr/bin/vigil | grep "not found"'
check "libcurl and libmosquitto (dlopened) are installed" sh -c 'ls /usr/lib/*/libcurl.so.4 /usr/lib/*/libmosquitto.so.1'
check "vigil config check accepts the shipped config" vigil config check /etc/vigil/vigil.json5
check "... and the service user can use all it names" vigil config check --as-service /etc/vigil/vigil.json5
# --man=no: minbase has no man-db to open Documentation=man:vigil(1) with (lintian checks the page).
check "systemd-analyze verify vigil.service" systemd-analyze verify --man=no /lib/systemd/system/vigil.service
check "the udev rule gives the watchdog to vigil-watchdog" grep -q 'GROUP="vigil-watchdog"' /lib/udev/rules.d/60-vigil.rules
check "the user vigil exists, in groups dialout, gpio and vigil-watchdog" \
    sh -c 'for g in dialout gpio vigil-watchdog; do id -nG vigil | tr " " "\n" | grep -qx $g || exit 1; done'
check "/var/lib/vigil belongs to vigil, /etc/vigil is root:vigil 0750" \
    sh -c 'test "$(stat -c %U:%G /var/lib/vigil)" = vigil:vigil && test "$(stat -c %U:%G:%a /etc/vigil)" = root:vigil:750'
check "dpkg lists the conffile" sh -c "dpkg-query -W -f='\${Conffiles}' vigil | grep -q '/etc/vigil/vigil.json5 '"
check "dpkg lists the man page and bash completion" sh -c 'dpkg -L vigil | grep -qx /usr/share/man/man1/vigil.1.gz && dpkg -L vigil | grep -qx /usr/share/bash-completion/completions/vigil'
check "the unit is enabled and not started" test -L /etc/systemd/system/multi-user.target.wants/vigil.service
check "the shipped config runs, polling nothing, as the service user" \
    setpriv --reuid=vigil --regid=vigil --init-groups vigil run --config /etc/vigil/vigil.json5 --duration 2
check "it made its journal in /var/lib/vigil" test -d /var/lib/vigil/journal
check "reinstalling keeps an installer's edit of the conffile" \
    sh -c 'echo "// edited on site" >> /etc/vigil/vigil.json5 && dpkg -i --force-confold "$DEB" >/dev/null && grep -q "edited on site" /etc/vigil/vigil.json5'
check "apt-get remove" sh -c 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq vigil'
check "remove: the binary is gone" test ! -e /usr/bin/vigil
check "remove: /var/lib/vigil (the journal) is kept" test -d /var/lib/vigil/journal
check "remove: the conffile is kept" test -f /etc/vigil/vigil.json5
check "apt-get purge" sh -c 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq vigil'
check "purge: /var/lib/vigil is deleted" test ! -e /var/lib/vigil
check "purge: the conffile is deleted" test ! -e /etc/vigil/vigil.json5
check "purge: the unit is no longer enabled" test ! -e /etc/systemd/system/multi-user.target.wants/vigil.service
echo "$failures check(s) failed"
exit $((failures > 0))
CHECKS
