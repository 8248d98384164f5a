#!/usr/bin/env bash
# Starts the loopback nginx (installing Debian's package if needed) and
# prints its base URL. Usage: tools/nginx/start.sh RUNTIME_DIR [PORT]
# Stop it with: tools/nginx/stop.sh RUNTIME_DIR
set -euo pipefail
dir=${1:?usage: start.sh RUNTIME_DIR [PORT]}
port=${2:-18080}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends nginx >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx >/dev/null; }
  # The package starts a system-wide nginx on port 80; this project does not use it.
  command -v systemctl >/dev/null 2>&1 && systemctl stop nginx >/dev/null 2>&1 || true
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

mkdir -p "$dir"/{logs,tmp,www}
dir=$(cd "$dir" && pwd)
echo "listen 127.0.0.1:$port;" > "$dir/listen.conf"
head -c 65536 /dev/zero | tr '\0' 'n' > "$dir/www/64k"
# nginx's workers run as an unprivileged user: let them reach the files.
chmod 755 "$dir" "$dir/www"
chmod 644 "$dir/www/64k"
cp "$here/nginx.conf" "$dir/nginx.conf"
[ -f "$dir/nginx.pid" ] && "$nginx_bin" -p "$dir/" -c "$dir/nginx.conf" -s stop 2>/dev/null || true
"$nginx_bin" -p "$dir/" -c "$dir/nginx.conf"
echo "http://127.0.0.1:$port"
