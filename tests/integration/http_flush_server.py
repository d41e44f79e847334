#!/usr/bin/env python3
"""A flush endpoint for the purge tests: http.server on ADDR, any free port (printed first).

Every request is logged as one JSON line to LOG (method, path, headers). /flush answers 204
when the Authorization header is "Bearer $FLUSH_TOKEN", else 401; /fail500 answers 500;
/redirect answers 302; /busy answers 429 with Retry-After: 1 the first time, then 204.
Runs until killed.
"""
import http.server
import json
import os
import sys

ADDR, LOG = sys.argv[1], sys.argv[2]
TOKEN = os.environ["FLUSH_TOKEN"]
SEEN = {"busy": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    def handle_any(self):
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "headers": dict(self.headers.items())}) + "\n")
        if self.path.startswith("/flush"):
            ok = self.headers.get("Authorization") == "Bearer " + TOKEN
            self.send_response(204 if ok else 401)
        elif self.path.startswith("/busy"):
            SEEN["busy"] += 1
            if SEEN["busy"] == 1:
                self.send_response(429)
                self.send_header("Retry-After", "1")
            else:
                self.send_response(204)
        elif self.path.startswith("/fail500"):
            self.send_response(500)
        elif self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "http://192.0.2.1/")
        else:
            self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = handle_any

    def log_message(self, *args):
        pass


server = http.server.HTTPServer((ADDR, 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
