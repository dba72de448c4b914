#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A stand-in for the Kubernetes API server, for the tests of `mipart agent` (loopback only).

It serves the paths the agent uses, with bodies from tests/fixtures/k8s (see its README for the
Kubernetes sources each follows):
  GET   /api/v1/nodes/NAME                               the Node
  GET   /api/v1/nodes?fieldSelector=metadata.name=NAME&watch=1&resourceVersion=RV&allowWatchBookmarks=true
        a watch stream: a BOOKMARK, then MODIFIED on every change of the Node
  PATCH /api/v1/nodes/NAME   (application/merge-patch+json; metadata.resourceVersion is a
        precondition: 409 when stale)
  GET   /api/v1/pods?fieldSelector=spec.nodeName=NAME, /api/v1/namespaces/NS/pods?...&labelSelector=K=V
  POST  /api/v1/namespaces/NS/pods/NAME/eviction         201, or 429 for a pod with "pdb": true
  POST  /api/v1/namespaces/default/events                201 (or 403 when forbidden)
Every request needs "Authorization: Bearer <token>" (else 401).

Usage: fake-kube-api.py DIR [--port N]
DIR/scenario.json says what to serve:
  {"node": NAME, "token": T, "labels": {...}, "pods": [{"namespace", "name", "containerID",
   "labels", "pdb"}], "forbid": ["events"], "conflict_once": bool, "gone_first_watch": bool,
   "exit_after_state": "pending", "unschedulable": bool, "annotations": {...}}
State lives in DIR: node.json (the Node now), requests.log ("METHOD PATH STATUS"), events.jsonl,
evictions.log; the port goes to DIR/port. A file DIR/set-labels.json (written by the test) is
merged into the Node's labels within 50 ms, as a `kubectl label` would. With exit_after_state,
the server exits right after answering the PATCH that sets that state label (the API server
going away in the middle of a change); started again on the same port it resumes from node.json.
"""
import copy
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "k8s")
LOCK = threading.Lock()
CHANGED = threading.Condition(LOCK)


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return json.load(f)


class State:
    def __init__(self, d):
        self.dir = d
        with open(os.path.join(d, "scenario.json"), encoding="utf-8") as f:
            self.sc = json.load(f)
        path = os.path.join(d, "node.json")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.node = json.load(f)
        else:
            self.node = fixture("node.json")
            name = self.sc.get("node", "gpu-node-1")
            self.node["metadata"]["name"] = name
            self.node["metadata"]["labels"]["kubernetes.io/hostname"] = name
            self.node["metadata"]["labels"].update(self.sc.get("labels", {}))
            if self.sc.get("annotations"):
                self.node["metadata"].setdefault("annotations", {}).update(self.sc["annotations"])
            if self.sc.get("unschedulable"):
                self.node["spec"]["unschedulable"] = True
        self.pods = []
        evicted = self.read_lines("evictions.log")
        for p in self.sc.get("pods", []):
            if "%s/%s" % (p["namespace"], p["name"]) in evicted:
                continue
            pod = fixture("pod.json")
            pod["metadata"]["name"] = p["name"]
            pod["metadata"]["namespace"] = p["namespace"]
            pod["metadata"]["labels"] = p.get("labels", {})
            pod["spec"]["nodeName"] = self.node["metadata"]["name"]
            pod["status"]["containerStatuses"][0]["containerID"] = p.get("containerID", "")
            pod["_pdb"] = bool(p.get("pdb"))
            self.pods.append(pod)
        self.conflicted = False
        self.watches = 0
        self.save()

    def read_lines(self, name):
        try:
            with open(os.path.join(self.dir, name), encoding="utf-8") as f:
                return set(line.strip() for line in f)
        except FileNotFoundError:
            return set()

    def append(self, name, line):
        with open(os.path.join(self.dir, name), "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def save(self):
        tmp = os.path.join(self.dir, "node.json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.node, f, indent=1)
        os.replace(tmp, os.path.join(self.dir, "node.json"))

    def bump(self):
        rv = int(self.node["metadata"]["resourceVersion"]) + 1
        self.node["metadata"]["resourceVersion"] = str(rv)
        self.save()
        CHANGED.notify_all()


def merge(dst, patch):
    """RFC 7386 JSON merge patch."""
    for k, v in patch.items():
        if v is None:
            dst.pop(k, None)
        elif isinstance(v, dict) and isinstance(dst.get(k), dict):
            merge(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)


def status(code):
    return fixture("status-%d.json" % code)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    st = None

    def log_message(self, fmt, *args):
        pass

    def send_json(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.st.append("requests.log", "%s %s %d" % (self.command, self.path, code))

    def authorized(self):
        want = "Bearer " + self.st.sc.get("token", "t0ken")
        if self.headers.get("Authorization") != want:
            self.send_json(401, status(401))
            return False
        return True

    def read_body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return json.loads(self.rfile.read(n) or b"null")

    def do_GET(self):
        if not self.authorized():
            return
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        name = self.st.node["metadata"]["name"]
        if u.path == "/api/v1/nodes/" + name:
            with LOCK:
                self.send_json(200, self.st.node)
        elif u.path == "/api/v1/nodes" and q.get("watch") == ["1"]:
            self.watch(q)
        elif u.path == "/api/v1/pods" or (u.path.startswith("/api/v1/namespaces/") and u.path.endswith("/pods")):
            self.list_pods(u, q)
        else:
            self.send_json(404, {"kind": "Status", "code": 404, "message": "not found", "status": "Failure"})

    def list_pods(self, u, q):
        ns = u.path.split("/")[4] if u.path.startswith("/api/v1/namespaces/") else None
        sel = q.get("labelSelector", [""])[0]
        items = []
        with LOCK:
            for p in self.st.pods:
                if ns and p["metadata"]["namespace"] != ns:
                    continue
                if sel:
                    k, _, v = sel.partition("=")
                    if p["metadata"]["labels"].get(k) != v:
                        continue
                items.append({k: v for k, v in p.items() if not k.startswith("_")})
        self.send_json(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": items})

    def watch(self, q):
        st = self.st
        with LOCK:
            st.watches += 1
            first = st.watches == 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        st.append("requests.log", "GET %s 200" % self.path)

        def send(ev):
            data = (json.dumps(ev) + "\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        try:
            if first and st.sc.get("gone_first_watch"):
                send({"type": "ERROR", "object": status(410)})
                self.wfile.write(b"0\r\n\r\n")
                return
            with LOCK:
                rv = st.node["metadata"]["resourceVersion"]
            send({"type": "BOOKMARK", "object": {"kind": "Node", "apiVersion": "v1",
                                                 "metadata": {"resourceVersion": rv}}})
            # the stream ends after timeoutSeconds, at most 2 s here: the agent reopens it (and
            # notices SIGTERM between streams) as it would after a real server's timeout
            end = time.monotonic() + min(int(q.get("timeoutSeconds", ["2"])[0]), 2)
            seen = rv
            while time.monotonic() < end:
                with LOCK:
                    CHANGED.wait(0.05)
                    self.st.poll_labels()
                    now = st.node["metadata"]["resourceVersion"]
                    node = copy.deepcopy(st.node)
                if now != seen:
                    seen = now
                    send({"type": "MODIFIED", "object": node})
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_PATCH(self):
        if not self.authorized():
            return
        st = self.st
        name = st.node["metadata"]["name"]
        if self.path != "/api/v1/nodes/" + name:
            self.send_json(404, {"kind": "Status", "code": 404, "status": "Failure", "message": "not found"})
            return
        patch = self.read_body()
        exit_now = False
        with LOCK:
            want_rv = (patch.get("metadata") or {}).pop("resourceVersion", None)
            if st.sc.get("conflict_once") and not st.conflicted and want_rv:
                # another writer got there first
                st.conflicted = True
                st.node["metadata"]["labels"]["example.com/touched-by"] = "someone-else"
                st.bump()
                body = status(409)
                body["message"] = body["message"].replace("gpu-node-1", name)
                self.send_json(409, body)
                return
            if want_rv and want_rv != st.node["metadata"]["resourceVersion"]:
                self.send_json(409, status(409))
                return
            merge(st.node, patch)
            st.bump()
            labels = (patch.get("metadata") or {}).get("labels") or {}
            for k, v in labels.items():
                st.append("labels.log", "%s=%s" % (k, v))
                if v is not None and v == st.sc.get("exit_after_state"):
                    exit_now = True
            if "spec" in patch:
                st.append("labels.log", "unschedulable=%s" % patch["spec"].get("unschedulable"))
            self.send_json(200, st.node)
        if exit_now:
            self.wfile.flush()
            os._exit(0)

    def do_POST(self):
        if not self.authorized():
            return
        st = self.st
        parts = self.path.split("/")
        body = self.read_body()
        if self.path == "/api/v1/namespaces/default/events":
            if "events" in st.sc.get("forbid", []):
                self.send_json(403, status(403))
                return
            st.append("events.jsonl", json.dumps(body))
            self.send_json(201, body)
            return
        # /api/v1/namespaces/NS/pods/NAME/eviction
        if len(parts) == 8 and parts[3] == "namespaces" and parts[5] == "pods" and parts[7] == "eviction":
            ns, name = parts[4], parts[6]
            with LOCK:
                pod = next((p for p in st.pods if p["metadata"]["namespace"] == ns and p["metadata"]["name"] == name), None)
                if pod is None:
                    self.send_json(404, {"kind": "Status", "code": 404, "status": "Failure", "message": 'pods "%s" not found' % name})
                    return
                if pod["_pdb"]:
                    self.send_json(429, status(429))
                    return
                st.pods.remove(pod)
                st.append("evictions.log", "%s/%s" % (ns, name))
            self.send_json(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})
            return
        self.send_json(404, {"kind": "Status", "code": 404, "status": "Failure", "message": "not found"})


def poll_labels(self):
    path = os.path.join(self.dir, "set-labels.json")
    try:
        with open(path, encoding="utf-8") as f:
            labels = json.load(f)
    except (FileNotFoundError, ValueError):
        return
    os.unlink(path)
    merge(self.node["metadata"]["labels"], labels)
    self.bump()


State.poll_labels = poll_labels


def main():
    d = sys.argv[1]
    port = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--port" else 0
    Handler.st = State(d)
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    with open(os.path.join(d, "port.tmp"), "w", encoding="utf-8") as f:
        f.write(str(srv.server_address[1]))
    os.replace(os.path.join(d, "port.tmp"), os.path.join(d, "port"))

    def labels_poller():
        while True:
            time.sleep(0.05)
            with LOCK:
                Handler.st.poll_labels()

    threading.Thread(target=labels_poller, daemon=True).start()
    # a test that forgets us must not leave us running: 15 min at most (far more than a test
    # takes on a loaded machine; the tests stop us themselves)
    threading.Timer(900, lambda: os._exit(3)).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
