#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fault soak for mipart's change engine, over a simulated host.

For a bounded time it runs rounds. Each round injects random driver faults (failed, refused,
silent or slow writes and reloads), starts several mipart processes at once with random
operations (set, reset, apply with hook units, allocate, release, recover), kills one of them
with SIGKILL at a random moment, then clears the faults, runs `mipart recover` and checks:

  - modes whole: every GPU bound, in a valid compute/memory pair, with the number of logical
    devices its compute mode makes, one memory mode per XGMI hive;
  - the journal consistent with the host: no change left running or failed, the newest
    finished change's `after` is what the host shows, no NPS request pending in the journal or
    in the simulated driver;
  - hook units: a unit that ran before the round runs after it, also when a unit would not
    start again during the round (its start fails now and then), and once recover has run no
    change records units left stopped;
  - no over-booking: per partition the bookings fit its capacity, and no allocation points at
    a partition the host does not have;
  - PRAGMA integrity_check is ok.

Prints one line per round and a total; exits 1 at the first broken invariant (with the seed,
so the run can be repeated with --seed).
"""
import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

COMPUTE_NPS1 = ["SPX", "DPX", "QPX", "CPX"]
COMPUTE_NPS4 = ["QPX", "CPX"]
PARTS = {"SPX": 1, "DPX": 2, "QPX": 4, "CPX": 8}
UNITS = ["soak-a.service", "soak-b.service"]


class Broken(Exception):
    pass


def run(mipart, root, *args, timeout=120, env=None):
    argv = [mipart] + (["--root", root] if root else []) + list(args)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


def random_op(rng, n_gpus, layout):
    r = rng.random()
    gpus = ",".join(str(g) for g in sorted(rng.sample(range(n_gpus), rng.randint(1, n_gpus))))
    if r < 0.30:
        return ["set", "-g", gpus, "--compute", rng.choice(COMPUTE_NPS1), "--lock-timeout", "20"]
    if r < 0.45:
        return ["set", "-g", "all", "--memory", "NPS4", "--compute", rng.choice(COMPUTE_NPS4),
                "--lock-timeout", "20"]
    if r < 0.55:
        return ["reset", "-g", "all", "--lock-timeout", "20"]
    if r < 0.65:
        return ["apply", "-f", layout, "-c", rng.choice(["dpx", "qpx"]), "--lock-timeout", "20"]
    if r < 0.72:
        return ["allocate", "llama-3.1-8b", "--max-model-len", "4096",
                "--name", "soak%d" % rng.randint(0, 2)]
    if r < 0.90:
        return ["release", "soak%d" % rng.randint(0, 2)]
    return ["recover"]


def random_fault(rng, n_gpus):
    on = rng.choice(["compute-write", "memory-write", "reload"])
    args = ["--on", on, "--times", str(rng.randint(1, 2))]
    if on != "reload" and rng.random() < 0.5:
        args += ["--gpu", str(rng.randrange(n_gpus))]
    if rng.random() < 0.4:
        args += ["--delay", str(rng.choice([200, 600, 1200]))]
        if rng.random() < 0.5:
            return args  # only slow
    args += ["--error", rng.choice(["EIO", "EBUSY", "SILENT", "EINVAL"])]
    return args


def host_state(mipart, root):
    rc, out, err = run(mipart, root, "list", "--json")
    if rc != 0:
        raise Broken("list failed: %s" % err.strip())
    return json.loads(out)["gpus"]


def check(mipart, root, db, units_dir, running_units):
    """The invariants; returns how many were checked."""
    checks = 0
    gpus = host_state(mipart, root)
    hives = {}
    for g in gpus:
        cm, mm = g["compute_partition"], g["memory_partition"]
        if not g["driver_bound"]:
            raise Broken("GPU %d is not bound to the driver" % g["index"])
        valid = COMPUTE_NPS1 if mm == "NPS1" else COMPUTE_NPS4 if mm == "NPS4" else []
        if cm not in valid:
            raise Broken("GPU %d is in no whole state: %s/%s" % (g["index"], cm, mm))
        if len(g["partitions"]) != PARTS[cm]:
            raise Broken("GPU %d is %s with %d logical devices" % (g["index"], cm, len(g["partitions"])))
        if g.get("pending_memory_partition"):
            raise Broken("GPU %d has a pending NPS request after recover" % g["index"])
        hives.setdefault(g.get("hive_id"), set()).add(mm)
    for h, modes in hives.items():
        if h and len(modes) > 1:
            raise Broken("hive %s in several memory modes: %s" % (h, modes))
    checks += 1  # modes whole

    with open(os.path.join(root, "mipart-sim.json")) as f:
        sim = json.load(f)
    for g in sim.get("gpus", []):
        req = g.get("requested_memory")
        if req not in (None, "UNKNOWN", ""):
            raise Broken("the simulated driver holds an NPS request (%s) nobody knows of" % req)
    checks += 1  # no request hidden in the driver

    con = sqlite3.connect(db, timeout=10)
    try:
        rows = con.execute("SELECT id, state, after FROM changes ORDER BY id DESC").fetchall()
        for cid, state, _ in rows:
            if state in ("running", "failed") and cid == rows[0][0]:
                raise Broken("change %d is %s after recover" % (cid, state))
            if state == "running":
                raise Broken("change %d left running" % cid)
        finished = [r for r in rows if r[2]]
        if finished and finished[0][0] == rows[0][0]:
            after = json.loads(finished[0][2])
            now = [(g["compute_partition"], g["memory_partition"]) for g in gpus]
            was = [(a["compute"], a["memory"]) for a in after]
            if now != was:
                raise Broken("change %d says the host is %s, it is %s" % (finished[0][0], was, now))
        if con.execute("SELECT count(*) FROM nps_requests").fetchone()[0]:
            raise Broken("the journal lists pending NPS requests after recover")
        # the units that would not start can again, and recover has run: no change may keep
        # units recorded as left stopped (what 'mipart doctor' reports as journal.hook-units)
        left = con.execute(
            "SELECT id FROM changes WHERE state != 'running' AND json_valid(hooks) AND "
            "json_extract(hooks, '$.restarted') = 0 AND json_array_length(coalesce("
            "json_extract(hooks, '$.left_stopped'), json_extract(hooks, '$.stop'))) > 0").fetchall()
        if left:
            raise Broken("changes %s record hook units left stopped" % [r[0] for r in left])
        checks += 1  # journal consistent with the host

        parts = {}
        for g in gpus:
            for p in g["partitions"]:
                parts[(g["bdf"], p["xcp"])] = p
        for bdf, xcp, used, cap in con.execute(
                "SELECT bdf, xcp, sum(bytes), max(capacity) FROM bookings GROUP BY bdf, xcp"):
            if (bdf, xcp) not in parts:
                raise Broken("an allocation points at partition %s/%d the host does not have" % (bdf, xcp))
            if used > cap:
                raise Broken("partition %s/%d over-booked: %d of %d bytes" % (bdf, xcp, used, cap))
        checks += 1  # no over-booking, no orphan

        ic = con.execute("PRAGMA integrity_check").fetchone()[0]
        if ic != "ok":
            raise Broken("integrity_check: %s" % ic)
        checks += 1
    finally:
        con.close()

    for u in running_units:
        with open(os.path.join(units_dir, u)) as f:
            if f.read().strip() != "active":
                raise Broken("hook unit %s ran before the round and is stopped after it" % u)
    checks += 1
    return checks


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mipart", required=True)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--min-rounds", type=int, default=1)
    ap.add_argument("--procs", type=int, default=3)
    ap.add_argument("--gpus", type=int, default=4)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    mipart = os.path.abspath(a.mipart)
    base = os.environ.get("TMPDIR") or ("/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
    tmp = tempfile.mkdtemp(prefix="mipart-soak.", dir=base)
    root = os.path.join(tmp, "host")
    units_dir = os.path.join(tmp, "units")
    os.mkdir(units_dir)
    # a systemctl that keeps each unit's state in a file, answering as systemctl(1) does; a
    # unit with a UNIT.nostart file beside it fails to start (exit 1, as systemctl does when
    # the start job fails) and stays inactive
    ctl = os.path.join(tmp, "systemctl")
    with open(ctl, "w") as f:
        f.write("#!/bin/sh\nact=$1; shift; rc=3; fail=\nfor u in \"$@\"; do\n case $act in\n"
                " is-active) s=$(cat \"%s/$u\" 2>/dev/null || echo inactive); echo \"$s\"; [ \"$s\" = active ] && rc=0 ;;\n"
                " stop) echo inactive >\"%s/$u\"; rc=0 ;;\n"
                " start) rc=0; if [ -e \"%s/$u.nostart\" ]; then echo \"Job for $u failed.\" >&2; fail=1;"
                " else echo active >\"%s/$u\"; fi ;;\n"
                " esac\ndone\n[ -n \"$fail\" ] && exit 1\nexit $rc\n"
                % (units_dir, units_dir, units_dir, units_dir))
    os.chmod(ctl, 0o755)
    for u, s in zip(UNITS, ["active", "inactive"]):
        with open(os.path.join(units_dir, u), "w") as f:
            f.write(s + "\n")
    layout = os.path.join(tmp, "layout.yaml")
    with open(layout, "w") as f:
        f.write("version: v1\npartition-configs:\n  dpx:\n    - devices: all\n      compute: DPX\n"
                "  qpx:\n    - devices: all\n      compute: QPX\nhooks:\n  units: [%s]\n" % ", ".join(UNITS))
    env = dict(os.environ, MIPART_SYSTEMCTL=ctl)
    db = os.path.join(root, "var/lib/mipart/mipart.db")
    rc, _, err = run(mipart, None, "sim", "create", root, "--gpus", str(a.gpus))
    if rc != 0:
        print("cannot create the simulated host: %s" % err.strip())
        return 1
    run(mipart, root, "history", env=env)
    print("soak: seed %d, %d GPUs, %d processes a round, %.0f s" % (seed, a.gpus, a.procs, a.seconds))
    print("replay: make soak SEED=%d SECONDS=%g PROCS=%d GPUS=%d" % (seed, a.seconds, a.procs, a.gpus))
    sys.stdout.flush()
    start = time.monotonic()
    rounds = checks = kills = 0
    try:
        while rounds < a.min_rounds or time.monotonic() - start < a.seconds:
            rounds += 1
            running_units = [u for u in UNITS
                             if open(os.path.join(units_dir, u)).read().strip() == "active"]
            faults = [random_fault(rng, a.gpus) for _ in range(rng.randint(0, 2))]
            if rng.random() < 0.6:  # a slow step, so that the kill lands mid-change
                faults.append(["--on", rng.choice(["compute-write", "memory-write", "reload"]),
                               "--delay", str(rng.choice([400, 800, 1500])), "--times", "1"])
            for fa in faults:
                run(mipart, None, "sim", "fault", root, *fa)
            # now and then a hook unit will not start again during the round
            nostart = [u for u in UNITS if rng.random() < 0.15]
            for u in nostart:
                open(os.path.join(units_dir, u + ".nostart"), "w").close()
            ops = [random_op(rng, a.gpus, layout) for _ in range(a.procs)]
            procs = [subprocess.Popen([mipart, "--root", root] + op, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for op in ops]
            changers = [i for i, o in enumerate(ops) if o[0] in ("set", "reset", "apply", "recover")]
            victim = None
            if rng.random() < 0.7:
                victim = rng.choice(changers) if changers else rng.randrange(len(procs))
            killed = False
            if victim is not None:
                # aim at a change under way: wait (at most 1 s) for a row 'running'
                t0 = time.monotonic()
                while time.monotonic() - t0 < 1.0 and procs[victim].poll() is None:
                    try:
                        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=1)
                        busy = con.execute("SELECT count(*) FROM changes WHERE state = 'running'").fetchone()[0]
                        con.close()
                    except sqlite3.Error:
                        busy = 0
                    if busy:
                        break
                    time.sleep(0.02)
                time.sleep(rng.uniform(0.0, 0.5))
                if procs[victim].poll() is None:
                    procs[victim].send_signal(signal.SIGKILL)
                    kills += 1
                    killed = True
            for p in procs:
                try:
                    p.wait(timeout=180)
                except subprocess.TimeoutExpired:
                    p.kill()
                    raise Broken("a mipart process did not finish in 180 s: %s" % p.args)
            run(mipart, None, "sim", "fault", root, "--clear")
            for u in nostart:
                os.unlink(os.path.join(units_dir, u + ".nostart"))
            out = ""
            for _ in range(3):
                rc, out, err = run(mipart, root, "recover", env=env)
                if rc != 0:
                    raise Broken("recover failed: %s" % err.strip())
                if "nothing to recover" in out:
                    break
            else:
                raise Broken("recover still finds something after 3 runs: %s" % out.strip())
            n = check(mipart, root, db, units_dir, running_units)
            checks += n
            print("round %d: %s; %s%s; %d invariant checks passed" % (
                rounds, " | ".join(" ".join(o[:4]) for o in ops),
                "kill -9 of '%s'" % ops[victim][0] if killed else "no kill",
                "; %s would not start" % ", ".join(nostart) if nostart else "", n))
            sys.stdout.flush()
    except Broken as e:
        print("BROKEN in round %d (seed %d): %s" % (rounds, seed, e))
        print("replay: make soak SEED=%d SECONDS=%g PROCS=%d GPUS=%d (the kills land at "
              "random moments: a replay may need a few runs)" % (seed, a.seconds, a.procs, a.gpus))
        print("host kept in %s" % tmp)
        return 1
    print("%d rounds, %d kill -9, %d invariant checks passed (seed %d)" % (rounds, kills, checks, seed))
    if not a.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
