#!/usr/bin/env python3
"""A fake qrng node for tests: answers GET /v1/random?bytes=N with N copies of one byte, labelled a device.

Stands for a compromised or broken node in tests of `qrng serve --source … --combine xor`, whose per-node health
tests must catch it. Loopback only; prints its port on the first line; exits when its standard input closes. Not part of qrng.

usage: constant_node.py BYTE   (e.g. 0 or 90)
"""
import http.server
import os
import sys
import threading
import urllib.parse

VALUE = bytes([int(sys.argv[1])]) if len(sys.argv) > 1 else b"\0"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        count = int(query.get("bytes", ["1"])[0])
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(count))
        self.send_header("QRNG-Source", "device")
        self.end_headers()
        self.wfile.write(VALUE * count)

    def log_message(self, *arguments):
        pass


def exit_when_stdin_closes():
    # The test holds our standard input open; when it closes it (or dies), we go too, whatever launched us.
    sys.stdin.read()
    os._exit(0)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
print(server.server_address[1], flush=True)
server.serve_forever()
