#!/usr/bin/env python3
"""py_fetch: h1fetch's command-line contract over Python's http.client, so
that the conformance runner can put it through the same scenarios.

One http.client.HTTPConnection per host serves every request, reconnecting
when it must, as an application would use it. http.client has no
response-header timeout: --response_header_timeout becomes its socket
timeout (for every read). "conn" counts the sockets it opened.
"""
import http.client
import json
import sys
import time
import urllib.parse


def outcome_line(i, method, status, body_bytes, prefix, error, conn, reused):
    return json.dumps({
        "i": i, "method": method, "status": status, "body_bytes": body_bytes,
        "body": prefix.decode("latin-1"), "error": error, "conn": conn,
        "reused": reused}, separators=(",", ":"))


def main(argv):
    timeout = None
    specs = []
    for arg in argv[1:]:
        if arg.startswith("--response_header_timeout="):
            seconds = float(arg.split("=", 1)[1])
            timeout = seconds if seconds > 0 else None
            continue
        words = arg.split()
        if len(words) < 2:
            print("py_fetch: expected \"METHOD URL [body=BYTES] [sleep_before_ms=N]\"",
                  file=sys.stderr)
            return 2
        spec = {"method": words[0], "url": words[1], "body": None, "sleep": 0.0}
        for word in words[2:]:
            key, _, value = word.partition("=")
            if key == "body":
                spec["body"] = int(value)
            elif key == "sleep_before_ms":
                spec["sleep"] = int(value) / 1000.0
            else:
                print("py_fetch: unknown word %r" % word, file=sys.stderr)
                return 2
        specs.append(spec)

    connections = {}
    sockets_seen = []
    for i, spec in enumerate(specs, 1):
        time.sleep(spec["sleep"])
        url = urllib.parse.urlsplit(spec["url"])
        key = (url.hostname, url.port)
        if key not in connections:
            connections[key] = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
        conn = connections[key]
        status, body_bytes, prefix, error, conn_id, reused = None, 0, b"", None, None, False
        try:
            body = b"x" * spec["body"] if spec["body"] is not None else None
            reused = conn.sock is not None
            conn.request(spec["method"], url.path or "/", body=body)
            if conn.sock not in sockets_seen:
                sockets_seen.append(conn.sock)
            conn_id = sockets_seen.index(conn.sock) + 1
            response = conn.getresponse()
            status = response.status
            # read() whole, as most callers do: it raises IncompleteRead on a
            # body cut short, where read(amt) would just end early.
            body = response.read()
            prefix, body_bytes = body[:16], len(body)
        except Exception as e:  # Every failure is an outcome, as in h1fetch.
            error = "%s: %s" % (type(e).__name__, e)
            conn.close()
        print(outcome_line(i, spec["method"], status, body_bytes, prefix, error, conn_id,
                           reused))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
