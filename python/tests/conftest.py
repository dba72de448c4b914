# SPDX-License-Identifier: MIT
"""Fixtures of the Python tests, and TAP output for meson (MIPART_TAP=1).

Every test runs against a simulated host written by libmipart into a scratch directory; the
mipart tool ($MIPART) is only used to compare its messages with the binding's.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

import mipart

_tap = {"n": 0, "failed": 0}
_scratch = []


def pytest_configure(config):
    # simulated hosts are thousands of small files and the ledger fsyncs: tmpfs makes them fast
    # where /tmp is a disk (as tests/integration/lib.sh does); one private directory per run
    if not config.option.basetemp and not os.environ.get("TMPDIR") and os.access("/dev/shm", os.W_OK):
        d = tempfile.mkdtemp(prefix="mipart-pytest.", dir="/dev/shm")
        _scratch.append(d)
        config.option.basetemp = os.path.join(d, "t")


def pytest_unconfigure(config):
    for d in _scratch:
        shutil.rmtree(d, ignore_errors=True)


def pytest_runtest_logreport(report):
    if os.environ.get("MIPART_TAP") != "1":
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _tap["n"] += 1
        name = report.nodeid.split("::", 1)[-1]
        if report.skipped:
            line = f"ok {_tap['n']} - {name} # SKIP"
        elif report.passed:
            line = f"ok {_tap['n']} - {name}"
        else:
            _tap["failed"] += 1
            line = f"not ok {_tap['n']} - {name}"
        sys.stdout.write(line + "\n")
        if report.failed:
            for text in str(report.longrepr).splitlines()[-30:]:
                sys.stdout.write(f"#   {text}\n")
        sys.stdout.flush()


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("MIPART_TAP") == "1":
        sys.stdout.write(f"1..{_tap['n']}\n")
        sys.stdout.flush()


@pytest.fixture
def host(tmp_path):
    """A simulated host of 2 MI300X in one hive, SPX/NPS1."""
    return mipart.sim_create(str(tmp_path / "host"), gpus=2)


@pytest.fixture
def cli():
    """Run the mipart tool: returns (exit code, stdout, stderr)."""
    exe = os.environ.get("MIPART")
    if not exe:
        pytest.skip("MIPART is not set")

    def run(*args):
        p = subprocess.run([exe, *args], capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr

    return run
