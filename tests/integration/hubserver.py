#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A stand-in for the Hugging Face Hub on 127.0.0.1, for tests/integration/t-hub.sh.

Serves the recorded repositories of tests/fixtures/hub (a directory org--name per repository)
in the Hub's URL layout and with its answers (huggingface_hub file_download.py hf_hub_url,
hf_api.py model_info, utils/_http.py hf_raise_for_status):

  GET /api/models/{org}/{name}[/revision/{rev}]   api.json
  GET /{org}/{name}/resolve/{rev}/{file}          the file; *.safetensors redirect (302) to
                                                  /cdn/... as the Hub sends LFS files to its CDN,
                                                  which answers Range requests (206 and
                                                  Content-Range bytes a-b/total)

A safetensors file is made of model.safetensors.header.json: the 8-byte little-endian length,
the header, then (never sent, only counted in the total) the tensor data.

Answers as the Hub gives them: an unknown repository 401 with X-Error-Code RepoNotFound (the
Hub does not tell a missing repository from a private one without a token); a gated repository
("gated" in api.json) 401 X-Error-Code GatedRepo without a token, 403 GatedRepo with a token
that has no access; a missing file 404 EntryNotFound; --rate-limit: 429 with Retry-After on
everything. Every request is logged to --log, one line "METHOD PATH RANGE AUTH".

usage: hubserver.py --root DIR --port-file FILE --log FILE [--token T] [--rate-limit]
"""
import argparse
import json
import os
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--token", default="hf_test_token")
    ap.add_argument("--rate-limit", action="store_true")
    args = ap.parse_args()

    class Hub(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def send(self, status, body=b"", headers=None, ctype="application/json"):
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def error(self, status, code, message, extra=None):
            body = json.dumps({"error": message}).encode()
            self.send(status, body, dict({"X-Error-Code": code, "X-Error-Message": message}, **(extra or {})))

        def repo(self, org, name):
            d = os.path.join(args.root, f"{org}--{name}")
            if not os.path.isdir(d):
                return None, None
            with open(os.path.join(d, "api.json")) as f:
                return d, json.load(f)

        def authorized(self, api):
            """None when the request may read the files, else (status, code, message)."""
            if not api.get("gated"):
                return None
            auth = self.headers.get("Authorization", "")
            if not auth:
                return 401, "GatedRepo", "Access to model %s is restricted. You must have access to it and be authenticated to access it. Please log in." % api["id"]
            if auth != "Bearer " + args.token:
                return 403, "GatedRepo", "Access to model %s is restricted and you are not in the authorized list." % api["id"]
            return None

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            with open(args.log, "a") as log:
                log.write("%s %s %s %s\n" % (self.command, self.path,
                                            self.headers.get("Range", "-"),
                                            "auth" if self.headers.get("Authorization") else "-"))
            if args.rate_limit:
                return self.error(429, "RateLimited", "You have been rate-limited; you can retry this action in about 1 minute.",
                                  {"Retry-After": "60"})
            parts = self.path.split("?")[0].strip("/").split("/")
            if parts[:2] == ["api", "models"] and len(parts) in (4, 6):
                d, api = self.repo(parts[2], parts[3])
                if not d:
                    return self.error(401, "RepoNotFound", "Repository not found")
                return self.send(200, json.dumps(api).encode())
            if len(parts) >= 5 and parts[2] == "resolve" or parts[0] == "cdn":
                cdn = parts[0] == "cdn"
                org, name, rev, file = (parts[1], parts[2], parts[3], "/".join(parts[4:])) if cdn \
                    else (parts[0], parts[1], parts[3], "/".join(parts[4:]))
                d, api = self.repo(org, name)
                if not d:
                    return self.error(401, "RepoNotFound", "Repository not found")
                denied = self.authorized(api)
                if denied and not cdn:
                    return self.error(*denied)
                if rev not in ("main", api["sha"]):
                    return self.error(404, "RevisionNotFound", "Invalid rev id: " + rev)
                names = [s["rfilename"] for s in api["siblings"]]
                if file not in names:
                    return self.error(404, "EntryNotFound", "Entry not found")
                common = {"X-Repo-Commit": api["sha"], "ETag": '"%s"' % api["sha"][:20]}
                if file.endswith(".safetensors"):
                    if not cdn:
                        return self.send(302, b"", dict(common, Location="/cdn/%s/%s/%s/%s" % (org, name, api["sha"], file)))
                    return self.safetensors(d, file)
                path = os.path.join(d, file)
                if not os.path.isfile(path):
                    return self.error(404, "EntryNotFound", "Entry not found")
                with open(path, "rb") as f:
                    return self.send(200, f.read(), common)
            self.error(404, "NotFound", "Not found")

        def safetensors(self, d, file):
            with open(os.path.join(d, file.replace(".safetensors", ".safetensors.header.json")), "rb") as f:
                header = f.read()
            data = max(t["data_offsets"][1] for k, t in json.loads(header).items() if k != "__metadata__")
            prefix = struct.pack("<Q", len(header)) + header
            total = len(prefix) + data
            rng = self.headers.get("Range", "")
            if not rng.startswith("bytes="):
                return self.error(416, "RangeRequired", "this test Hub serves headers only")
            a, b = (int(x) for x in rng[6:].split("-"))
            if a >= len(prefix) or b < a:
                return self.error(416, "RangeNotSatisfiable", "outside the header")
            b = min(b, total - 1)
            body = prefix[a:min(b + 1, len(prefix))]
            self.send(206, body, {"Content-Range": "bytes %d-%d/%d" % (a, a + len(body) - 1, total),
                                  "Accept-Ranges": "bytes"}, "application/octet-stream")

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
