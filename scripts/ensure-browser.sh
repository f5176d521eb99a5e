#!/usr/bin/env bash
# Installs Debian's Chromium and a Japanese font for the browser tests, when missing and possible.
# Never downloads a browser build of its own: only the distribution's packages.
# Without root (or without apt) it prints why and returns 0; the browser tests then skip with that
# reason, except under KPIANALYSIS_REQUIRE_BROWSER=1 (set by .ci/run), where they fail instead.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -e /usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf ] || [ -e /usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf ] || need+=(fonts-ipaexfont-gothic)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "note: browser tests need ${need[*]} (apt-get install --no-install-recommends ${need[*]}); not root or no apt-get, so they will skip" >&2
  exit 0
fi
echo "installing ${need[*]} for the browser tests (Debian packages)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
  || echo "note: could not install ${need[*]}; browser tests will skip" >&2
exit 0
