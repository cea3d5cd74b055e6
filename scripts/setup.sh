#!/usr/bin/env bash
# Makes a fresh Debian 12 machine ready to build and run FineTune.MLNet.
# Idempotent: each step checks before it changes anything.
#  1. TorchSharp 0.107's native shim needs libstdc++ from GCC 13+ (GLIBCXX_3.4.32). Debian 12 ships GCC 12,
#     so where that symbol version is missing we add Debian 13 ("trixie") as an apt source pinned at
#     priority 100 (never preferred by default) and install only libstdc++6 from it.
#  2. The tests run exported GGUF files in llama.cpp (NuGet LLamaSharp.Backend.Cpu), whose natives link libgomp.so.1:
#     installed from Debian's libgomp1 when missing.
#  3. Run reports (src/FineTune.MLNet/Reporting) draw their plots with ScottPlot through SkiaSharp, whose natives
#     (SkiaSharp.NativeAssets.Linux.NoDependencies) need no fontconfig but need a font file: fonts-dejavu-core. The
#     report test opens report.html in a real headless browser: Debian's chromium. Both installed when missing.
#  4. The .NET SDK must be on PATH (it is on the project's machines; we fail with a clear message otherwise).
set -euo pipefail

log() { printf '[setup] %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root for: $*"; exit 1; fi
}

has_glibcxx_3432() {
  local lib
  for lib in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /lib/x86_64-linux-gnu/libstdc++.so.6; do
    if [ -e "$lib" ] && grep -aq 'GLIBCXX_3\.4\.32' "$lib"; then return 0; fi
  done
  return 1
}

if has_glibcxx_3432; then
  log "libstdc++ already provides GLIBCXX_3.4.32: nothing to do"
else
  if ! [ -r /etc/os-release ] || ! grep -q 'VERSION_CODENAME=bookworm' /etc/os-release; then
    log "GLIBCXX_3.4.32 is missing and this is not Debian 12: install libstdc++ from GCC 13 or newer by hand"; exit 1
  fi
  log "GLIBCXX_3.4.32 missing: installing libstdc++6 from Debian 13 (trixie), pinned at priority 100"
  if ! [ -e /etc/apt/sources.list.d/trixie.sources ]; then
    as_root tee /etc/apt/sources.list.d/trixie.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  if ! [ -e /etc/apt/preferences.d/trixie-pin ]; then
    as_root tee /etc/apt/preferences.d/trixie-pin >/dev/null <<'PIN'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PIN
  fi
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq -t trixie libstdc++6 >/dev/null
  has_glibcxx_3432 || { log "libstdc++6 from trixie did not provide GLIBCXX_3.4.32"; exit 1; }
  log "libstdc++ now provides GLIBCXX_3.4.32"
fi

has_libgomp() { ldconfig -p 2>/dev/null | grep -q 'libgomp\.so\.1 ' || [ -e /usr/lib/x86_64-linux-gnu/libgomp.so.1 ]; }
if has_libgomp; then
  log "libgomp.so.1 present: nothing to do"
else
  log "libgomp.so.1 missing (llama.cpp natives of LLamaSharp need it): installing libgomp1"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq libgomp1 >/dev/null
  has_libgomp || { log "libgomp1 did not provide libgomp.so.1"; exit 1; }
fi

report_packages=()
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || report_packages+=(fonts-dejavu-core)
command -v chromium >/dev/null || report_packages+=(chromium)
if [ "${#report_packages[@]}" -eq 0 ]; then
  log "fonts-dejavu-core and chromium present: nothing to do"
else
  log "installing ${report_packages[*]} (run report plots need a font; the report test runs headless chromium)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${report_packages[@]}" >/dev/null
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && command -v chromium >/dev/null || { log "fonts-dejavu-core or chromium did not install"; exit 1; }
fi

command -v dotnet >/dev/null || { log "the .NET SDK 10 is required (dotnet not on PATH)"; exit 1; }
log "ready: $(dotnet --version)"
