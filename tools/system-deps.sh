#!/usr/bin/env bash
# Native libraries the Python packages load (cv2, open3d, bpy, Mesa's software EGL/GL) and npm (the tests' glTF validator), checked by
# `make` before it sets up the virtualenv. On Debian/Ubuntu the missing ones are installed with
# apt-get (as root, or through sudo when it needs no password); elsewhere, or when neither works, the
# missing libraries and packages are listed and the script exits 1.
# libusb-1.0 (open3d) is not here: it comes from the libusb-package wheel (see mocap/runtime.py).
# Usage: tools/system-deps.sh [--check]   (--check: report only, install nothing)
set -u
[ "$(uname -s)" = Linux ] || exit 0   # macOS/Windows wheels bundle their own libraries

# soname-or-path  Debian package  what needs it
LIBS="
libGL.so.1        libgl1           cv2,open3d,bpy
libEGL.so.1       libegl1          open3d(headless)
libEGL_mesa.so.0  libegl-mesa0     open3d(headless)
dri/swrast_dri.so libgl1-mesa-dri  open3d(headless)
libgomp.so.1      libgomp1         open3d,torch
libglib-2.0.so.0  libglib2.0-0     cv2
libX11.so.6       libx11-6         cv2,open3d,bpy
libXext.so.6      libxext6         bpy
libXfixes.so.3    libxfixes3       bpy
libXi.so.6        libxi6           bpy
libxkbcommon.so.0 libxkbcommon0    bpy
libXrender.so.1   libxrender1      bpy
libSM.so.6        libsm6           bpy
libICE.so.6       libice6          bpy
libudev.so.1      libudev1         open3d
"

have() {
    /sbin/ldconfig -p 2>/dev/null | grep -q "[[:space:]]$1 " && return 0
    for f in /usr/lib/*/"$1" /usr/lib/"$1" /usr/lib64/"$1" /lib/*/"$1"; do
        [ -e "$f" ] && return 0
    done
    return 1
}

missing_pkgs=""; missing_libs=""
while read -r lib pkg who; do
    [ -n "$lib" ] || continue
    if ! have "$lib"; then
        missing_pkgs="$missing_pkgs $pkg"; missing_libs="$missing_libs $lib($who)"
    fi
done <<< "$LIBS"
# node and npm run the Khronos glTF-Validator in the tests (tools/gltf-validator)
if ! command -v npm >/dev/null 2>&1; then
    missing_pkgs="$missing_pkgs nodejs npm"; missing_libs="$missing_libs npm(tests:gltf-validator)"
fi
[ -z "$missing_pkgs" ] && exit 0

echo "system libraries missing:$missing_libs" >&2
if [ "${1:-}" = --check ]; then exit 1; fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "not a Debian/Ubuntu system: install your distribution's packages for these libraries" >&2
    echo "(Debian names:$missing_pkgs), then run make again" >&2
    exit 1
fi
if [ "$(id -u)" = 0 ]; then SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"
else
    echo "installing them needs root: run  sudo apt-get install -y$missing_pkgs  then make again" >&2
    exit 1
fi
echo "installing:$missing_pkgs" >&2
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends $missing_pkgs; } >"$log" 2>&1; then
    rm -f "$log"; exit 0
fi
cat "$log" >&2; rm -f "$log"
echo "apt-get could not install:$missing_pkgs" >&2
exit 1
