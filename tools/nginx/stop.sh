#!/usr/bin/env bash
# Stops the nginx that tools/nginx/start.sh started in RUNTIME_DIR.
dir=${1:?usage: stop.sh RUNTIME_DIR}
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -f "$dir/nginx.pid" ] && "$nginx_bin" -p "$dir/" -c "$dir/nginx.conf" -s stop
exit 0
