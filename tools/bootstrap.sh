#!/usr/bin/env bash
# Makes `bazel test //...` work offline on Debian 12 (bookworm): installs Debian's
# Bazel 4.2.3 (bazel-bootstrap) and clang-14, fetches Abseil's, GoogleTest's and
# http-parser's sources from Debian's source packages, installs node-llhttp
# (llhttp's generated C sources, for //fuzz), and writes the git-ignored
# offline.bazelrc that .bazelrc try-imports.
#
# Needs root and Debian's package archive; nothing else from the network.
# WORKSPACE stays as upstream writes it (http_archive, upstream URLs, sha256);
# this script only redirects those archives to local copies.
#
# Writes:
#   /etc/apt/sources.list.d/h1transport-deb-src.sources  (only if no deb-src yet)
#   $H1_CACHE (default ~/.cache/h1transport): sources, distdir, stand-in repos
#   <workspace>/offline.bazelrc
# Idempotent: a rerun with everything in place makes no apt call and changes no file.
set -euo pipefail

WS=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${H1_CACHE:-$HOME/.cache/h1transport}
DEBSRC_FILE=/etc/apt/sources.list.d/h1transport-deb-src.sources
MOCK=/usr/src/bazel-bootstrap/mock_repos   # from bazel-bootstrap-source
PACKAGES=(
  bazel-bootstrap bazel-bootstrap-source bazel-platforms bazel-skylib
  clang libclang-rt-14-dev llvm python3
  libcurl4-openssl-dev libcpp-httplib-dev   # the benchmark's peers (bench/)
  node-llhttp   # C sources of llhttp (fuzz/third_party/llhttp.bzl); pulls no nodejs
)
# Bazel repository name -> Debian source package.
declare -A DEB_SOURCE=(
  [com_google_absl]=abseil
  [com_google_googletest]=googletest
  [com_googlesource_code_re2]=re2
  [http_parser]=http-parser
)

log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }
# Versions are compared by their digits: Debian writes 20220601+dfsg where
# upstream tags 2022-06-01.
digits() { tr -cd '0-9' <<< "$1"; }

[ "$(id -u)" = 0 ] || die "run as root: it installs Debian packages"
export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_update() { [ $apt_updated = 1 ] || { log "apt-get update"; apt-get update -qq; apt_updated=1; }; }

# 1. deb-src entries, derived from this machine's own deb822 sources.
derive_deb_src() {
  awk '
    function flush() {
      if (isdeb && uris != "") {
        printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", uris, suites, comps
        if (signed != "") printf "Signed-By: %s\n", signed
        printf "\n"
      }
      isdeb = 0; uris = suites = comps = signed = ""
    }
    /^[ \t]*#/ { next }
    /^[ \t]*$/ { flush(); next }
    {
      key = $1; sub(/:$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val)
      if (key == "Types") { n = split(val, t, /[ \t]+/); for (i = 1; i <= n; i++) if (t[i] == "deb") isdeb = 1 }
      else if (key == "URIs") uris = val
      else if (key == "Suites") suites = val
      else if (key == "Components") comps = val
      else if (key == "Signed-By") signed = val
    }
    END { flush() }' /etc/apt/sources.list.d/debian.sources
}
if apt-get indextargets --format '$(TARGET_OF)' 2>/dev/null | grep -qx deb-src; then
  :
elif [ -f /etc/apt/sources.list.d/debian.sources ]; then
  { echo "# Written by h1transport tools/bootstrap.sh: deb-src twins of debian.sources"; derive_deb_src; } > "$DEBSRC_FILE"
  log "wrote $DEBSRC_FILE"; apt_update
elif [ -f /etc/apt/sources.list ]; then
  sed -nE 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list > "${DEBSRC_FILE%.sources}.list"
  log "wrote ${DEBSRC_FILE%.sources}.list"; apt_update
else
  die "no apt sources found"
fi

# 2. Packages.
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt_update
  log "installing ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for d in "$MOCK/rules_cc" "$MOCK/rules_java" "$MOCK/rules_proto" \
         /usr/share/bazel/tools/platforms /usr/share/bazel/tools/skylib; do
  [ -d "$d" ] || die "missing $d (from bazel-bootstrap-source / bazel-platforms / bazel-skylib)"
done

# 3. Sources of the http_archives in DEB_SOURCE.
mkdir -p "$CACHE/debsrc" "$CACHE/distdir" "$CACHE/repos"
orig_of() { compgen -G "$CACHE/debsrc/${1}_*.orig.tar.*" | head -n1 || true; }
need=()
for name in "${!DEB_SOURCE[@]}"; do
  [ -n "$(orig_of "${DEB_SOURCE[$name]}")" ] || need+=("${DEB_SOURCE[$name]}")
done
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get source --download-only ${need[*]}"
  fetch() { (cd "$CACHE/debsrc" && apt-get source -qq --download-only -o APT::Sandbox::User=root "${need[@]}"); }
  fetch || { apt_updated=0; apt_update; fetch; }
fi

# name, sha256 and first URL of each http_archive in repositories.bzl and
# WORKSPACE: the places that pin versions.
ws_archives() {
  python3 - "$WS/repositories.bzl" "$WS/WORKSPACE" <<'PY'
import re, sys
text = "".join(open(path).read() for path in sys.argv[1:])
archive = r'(?:http_archive\(|maybe\(\s*http_archive,)(.*?)\n\s*\)'
for m in re.finditer(archive, text, re.S):
    body = m.group(1)
    get = lambda k: (re.search(k + r'\s*=\s*"([^"]*)"', body) or [None, ""])[1]
    url = re.search(r'urls?\s*=\s*\[?\s*"([^"]+)"', body)
    print(get("name"), get("sha256"), url.group(1) if url else "")
PY
}
override_lines=()
while read -r name sha url; do
  pkg=${DEB_SOURCE[$name]:-}
  [ -n "$pkg" ] || continue
  orig=$(orig_of "$pkg"); [ -n "$orig" ] || die "no orig tarball for $pkg"
  ver=$(basename "$orig"); ver=${ver#"${pkg}_"}; ver=${ver%.orig.tar.*}
  case "$(digits "$url")" in
    *"$(digits "${ver%%+*}")"*) ;;
    *) die "$name: WORKSPACE pins $url but Debian ships $ver" ;;
  esac
  have=$(sha256sum "$orig" | cut -d' ' -f1)
  if [ "$have" = "$sha" ]; then
    # Byte-identical to upstream: Bazel finds it in --distdir and checks the sha256.
    dst="$CACHE/distdir/$(basename "$url")"
    cmp -s "$orig" "$dst" || cp "$orig" "$dst"
  else
    # Repacked by Debian (other sha256): extract and override the repository.
    dst="$CACHE/repos/$name"
    if [ "$(cat "$dst/.orig-sha256" 2>/dev/null)" != "$have" ]; then
      rm -rf "$dst" "$dst.tmp"; mkdir -p "$dst.tmp"
      tar -xf "$orig" -C "$dst.tmp" --strip-components=1
      echo "$have" > "$dst.tmp/.orig-sha256"
      mv "$dst.tmp" "$dst"
      log "$name: extracted Debian's $ver"
    fi
    override_lines+=("common --override_repository=$name=$dst")
  fi
done < <(ws_archives)

# 4. Stand-in for @remote_coverage_tools, which every test rule depends on and
# Bazel would otherwise download. sh_binary stubs (a filegroup breaks coverage).
write_if_changed() {  # write_if_changed FILE < content
  local tmp; tmp=$(mktemp); cat > "$tmp"
  if cmp -s "$tmp" "$1"; then rm "$tmp"; else mv "$tmp" "$1"; log "wrote $1"; fi
}
cov="$CACHE/repos/remote_coverage_tools"
mkdir -p "$cov"
echo 'workspace(name = "remote_coverage_tools")' | write_if_changed "$cov/WORKSPACE"
write_if_changed "$cov/BUILD" <<'BUILD'
package(default_visibility = ["//visibility:public"])

sh_binary(name = "lcov_merger", srcs = ["merger.sh"])

sh_binary(name = "coverage_report_generator", srcs = ["merger.sh"])
BUILD
write_if_changed "$cov/merger.sh" <<'SH'
#!/bin/bash
# Concatenates lcov tracefiles (--coverage_dir or --reports_file) into
# --output_file, dropping records of external/ and /usr sources.
set -euo pipefail
cov_dir="" reports="" out=""
for a in "$@"; do
  case "$a" in
    --coverage_dir=*) cov_dir="${a#*=}" ;;
    --reports_file=*) reports="${a#*=}" ;;
    --output_file=*) out="${a#*=}" ;;
  esac
done
[ -n "$out" ] || { echo "merger.sh: no --output_file" >&2; exit 1; }
{
  if [ -n "$cov_dir" ]; then find -L "$cov_dir" -name '*.dat' -type f -size +0 -print0 | xargs -0 -r cat; fi
  if [ -n "$reports" ]; then while IFS= read -r f; do [ -s "$f" ] && cat "$f"; done < "$reports"; fi
} | awk '
  /^SF:/ { keep = ($0 !~ /^SF:(.*\/)?external\// && $0 !~ /^SF:\/usr\//) }
  { rec = rec $0 "\n" }
  /^end_of_record/ { if (keep) printf "%s", rec; rec = "" }
' > "$out"
SH
chmod +x "$cov/merger.sh"

# 5. offline.bazelrc (absolute paths: Bazel 4 does not expand %workspace% in values).
# What any workspace needs with Debian's Bazel: stand-ins for the rules
# Bazel 4 itself names, skylib and platforms.
bazel_standins() {
  echo "common --override_repository=rules_cc=$MOCK/rules_cc"
  echo "common --override_repository=rules_java=$MOCK/rules_java"
  echo "common --override_repository=rules_proto=$MOCK/rules_proto"
  echo "common --override_repository=platforms=/usr/share/bazel/tools/platforms"
  echo "common --override_repository=bazel_skylib=/usr/share/bazel/tools/skylib"
}
{
  echo "# Generated by tools/bootstrap.sh for this machine; git-ignored."
  bazel_standins
  echo "common --override_repository=remote_coverage_tools=$cov"
  echo "common --distdir=$CACHE/distdir"
  for l in "${override_lines[@]}"; do echo "$l"; done
} | write_if_changed "$WS/offline.bazelrc"
# The vendoring example (examples/consumer) builds only //transport: Abseil.
{
  echo "# Generated by tools/bootstrap.sh for this machine; git-ignored."
  bazel_standins
  echo "common --distdir=$CACHE/distdir"
  for l in "${override_lines[@]}"; do
    case "$l" in *=com_google_absl=*) echo "$l" ;; esac
  done
} | write_if_changed "$WS/examples/consumer/offline.bazelrc"
log "ready"
