"""Run a command as a child process and measure its wall time and peak RSS.

Peak RSS comes from GNU `/usr/bin/time -v` ("Maximum resident set size") when that binary
exists; otherwise from `os.wait4()` on the child, which returns that child's own rusage
(ru_maxrss, KiB on Linux). Both report the same kernel counter, the high-water mark of the
child's resident set. (`resource.getrusage(RUSAGE_CHILDREN)` would give the max over ALL
children waited so far, so it is not used: it cannot attribute a peak to one run.)
Set BENCH_NO_GNU_TIME=1 to force the wait4 path.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, asdict


@dataclass
class Measured:
    cmd: list
    returncode: int
    stdout: str
    stderr: str
    wall_seconds: float
    peak_rss_kib: int | None
    rss_method: str

    @property
    def peak_rss_mib(self) -> float | None:
        return None if self.peak_rss_kib is None else self.peak_rss_kib / 1024.0

    def summary(self) -> dict:
        d = asdict(self)
        d.pop("stdout")
        d["stderr"] = d["stderr"][-2000:]
        d["peak_rss_mib"] = self.peak_rss_mib
        return d


def gnu_time() -> str | None:
    if os.environ.get("BENCH_NO_GNU_TIME"):
        return None
    p = shutil.which("time", path="/usr/bin:/bin")
    if not p:
        return None
    try:
        out = subprocess.run([p, "--version"], capture_output=True, text=True, timeout=5)
        if "GNU" not in (out.stdout + out.stderr):
            return None
    except Exception:
        return None
    return p


_RSS_RE = re.compile(r"Maximum resident set size \(kbytes\):\s*(\d+)")


def run_measured(cmd: list, env: dict | None = None, cwd: str | None = None) -> Measured:
    cmd = [str(c) for c in cmd]
    timer = gnu_time()
    if timer:
        with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
            tpath = tf.name
        try:
            t0 = time.perf_counter()
            p = subprocess.run([timer, "-v", "-o", tpath] + cmd, capture_output=True,
                               text=True, env=env, cwd=cwd)
            wall = time.perf_counter() - t0
            with open(tpath) as f:
                m = _RSS_RE.search(f.read())
        finally:
            os.unlink(tpath)
        return Measured(cmd, p.returncode, p.stdout, p.stderr, wall,
                        int(m.group(1)) if m else None, "gnu-time -v")
    # Fallback: os.wait4 gives the rusage of exactly this child.
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True, env=env, cwd=cwd)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        return Measured(cmd, p.returncode, fo.read(), fe.read(), wall, int(ru.ru_maxrss),
                        "os.wait4 ru_maxrss")
