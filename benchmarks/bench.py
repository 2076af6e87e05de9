#!/usr/bin/env python3
"""Start-up time and transfer speed, each as a ratio to a reference measured in the
same run on the same machine (these machines are shared and noisy: compare ratios,
not absolute numbers).

    python benchmarks/bench.py [--size-mb 100] [--runs 15]

1. `yce --help` against bare `python -c pass` (target: within 150 ms).
2. A 100 MB upload and download through yce's transfer code against curl, both on
   the sandbox's storage endpoint over loopback (targets: upload >= 0.95x curl,
   download >= 0.9x curl with yce's fsync before the rename, which curl does not
   do), and yce's peak RSS during the transfer (target < 60 MiB).

Both tools write a new file per download, as yce always does. Before the transfers
the benchmark touches as much memory as they will fill (unless --no-warm): on a virtual
machine the first write to a never-used page costs a hypervisor fault, and writing
100 MB into such pages takes ~0.25 s against ~0.02 s into pages used before, which
swamps the difference between the two tools and goes to whichever one the kernel
happens to hand fresh pages (curl overwriting its previous output in place got
recycled pages; yce, writing a new file, got fresh ones: 0.44x instead of ~1x).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PY = sys.executable


def timed(cmd: list[str], runs: int) -> float:
    """Median wall time of `cmd`, in seconds."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def startup(runs: int) -> None:
    bare = timed([PY, "-c", "pass"], runs)
    help_ = timed([PY, "-m", "ycecli", "--help"], runs)
    sub = timed([PY, "-m", "ycecli", "enhance", "--help"], runs)
    print(f"start-up (median of {runs} runs)")
    print(f"  python -c pass        {bare * 1000:7.1f} ms")
    print(
        f"  yce --help            {help_ * 1000:7.1f} ms   +{(help_ - bare) * 1000:.1f} ms "
        f"over bare python (target: +150 ms)"
    )
    print(f"  yce enhance --help    {sub * 1000:7.1f} ms   +{(sub - bare) * 1000:.1f} ms")


# Runs in a child process so its peak RSS is yce's alone, not the benchmark's.
CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from ycecli.client import Client
from ycecli.config import Paths, Profile
from ycecli.transfer import UploadSlot, download, put_file
mode, url, path, headers = sys.argv[1], sys.argv[2], Path(sys.argv[3]), json.loads(sys.argv[4])
client = Client(Profile(api_base="http://127.0.0.1:1"), Paths(Path("."), Path("."), Path(".")))
import os
fsync_seconds = 0.0
real_fsync = os.fsync
def timed_fsync(fd):
    global fsync_seconds
    t = time.perf_counter()
    real_fsync(fd)
    fsync_seconds += time.perf_counter() - t
os.fsync = timed_fsync
# In a real run the upload follows the file-creation call on the same session, so
# the connection and requests' lazy imports are already warm: warm them here too.
client.session.get(url.split("/storage/")[0] + "/_sandbox/state").close()
start = time.perf_counter()
if mode == "upload":
    headers = {k: str(v) for k, v in headers.items()}
    put_file(client, UploadSlot("bench", url, "PUT", headers), path, None)
else:
    download(client, url, path, overwrite=True, from_reply=True)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "fsync": fsync_seconds,
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def post(base: str, path: str, body: dict) -> dict:
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())


def yce_transfer(mode: str, url: str, path: Path, headers: dict) -> dict:
    out = subprocess.run(
        [PY, "-c", CHILD, mode, url, str(path), json.dumps(headers)], capture_output=True, text=True
    )
    if out.returncode:
        raise SystemExit(f"yce {mode} failed:\n{out.stderr}")
    return json.loads(out.stdout)


def warm_memory(folder: Path, size_mb: int, rounds: int) -> None:
    """Touch the memory the transfers will fill (the sandbox keeps every uploaded
    and served file; see the module docstring), so no tool pays first-touch costs.
    Through the page cache: the kernel hands a file's freed pages to the next file
    written, which anonymous memory freed by a process does not reliably get."""
    need = (4 * rounds + 4) * size_mb
    with contextlib.suppress(OSError, ValueError, KeyError):
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        need = min(need, int(info["MemAvailable"].split()[0]) // 1024 // 2)
    scratch = folder / "warm"
    block = bytes(1 << 20)
    with open(scratch, "wb") as fh:
        for _ in range(need):
            fh.write(block)
    scratch.unlink()


def curl_transfer(mode: str, url: str, path: Path, headers: dict) -> float:
    cmd = ["curl", "-sS", "-f", "-o", "/dev/null" if mode == "upload" else str(path)]
    if mode == "upload":
        cmd += ["-T", str(path)]
        for key, value in headers.items():
            cmd += ["-H", f"{key}: {value}"]
    start = time.perf_counter()
    subprocess.run([*cmd, url], check=True)
    return time.perf_counter() - start


def transfers(size_mb: int, rounds: int, warm: bool) -> None:
    if not shutil.which("curl"):
        print("transfer: skipped (curl is not installed)")
        return
    size = size_mb * 1_000_000
    server = subprocess.Popen(
        [PY, "-m", "ycecli", "sandbox", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        env = dict(
            line.removeprefix("export ").strip().split("=", 1)
            for line in (server.stdout.readline() for _ in range(5))
        )
        base = env["YCE_API_BASE"].strip("'")
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "payload.bin"
            with open(src, "wb") as fh:
                for _ in range(size_mb):
                    fh.write(os.urandom(1_000_000))
            if warm:
                warm_memory(Path(tmp), size_mb, rounds)
            results: dict[str, list[float]] = {k: [] for k in ("yu", "cu", "yd", "cd", "yf")}
            rss = 0.0
            for round_no in range(rounds):
                # Alternate who goes first, and flush dirty pages before each timed
                # transfer: the sandbox writes to disk, and a transfer that follows a
                # 100 MB write otherwise pays for the other one's writeback.
                order = ("curl", "yce") if round_no % 2 == 0 else ("yce", "curl")
                for who in order:
                    slot = post(base, "/_sandbox/slot", {"size": size})
                    os.sync()
                    if who == "curl":
                        results["cu"].append(
                            curl_transfer("upload", slot["url"], src, slot["headers"])
                        )
                    else:
                        got = yce_transfer("upload", slot["url"], src, slot["headers"])
                        results["yu"].append(got["seconds"])
                        rss = max(rss, got["max_rss_mib"])
                for who in order:
                    blob = post(base, "/_sandbox/blob", {"size": size})
                    # A new file for each tool and round (yce never writes in place),
                    # and the previous one gone first.
                    for old in Path(tmp).glob(f"{who}-*"):
                        old.unlink()
                    out = Path(tmp) / f"{who}-{round_no}"
                    os.sync()
                    if who == "curl":
                        results["cd"].append(curl_transfer("download", blob["url"], out, {}))
                    else:
                        got = yce_transfer("download", blob["url"], out, {})
                        results["yd"].append(got["seconds"])
                        results["yf"].append(got["seconds"] - got["fsync"])
                        rss = max(rss, got["max_rss_mib"])
        med = {k: statistics.median(v) for k, v in results.items()}
        print(
            f"transfer of {size_mb} MB on loopback (median of {rounds} rounds"
            + (", memory warmed)" if warm else ", memory not warmed)")
        )
        for label, y, c, target in (("upload", "yu", "cu", 0.95), ("download", "yd", "cd", 0.9)):
            ratio = med[c] / med[y]
            print(
                f"  {label:<9} yce {size_mb / med[y]:7.0f} MB/s   curl {size_mb / med[c]:7.0f} "
                f"MB/s   ratio {ratio:.2f}x curl (target >= {target}x)"
            )
        print(
            f"  download without the fsync before rename: {med['cd'] / med['yf']:.2f}x curl "
            "(curl does not fsync; yce does, so a result on disk survives a power cut)"
        )
        print(f"  peak RSS of the yce process: {rss:.1f} MiB (target < 60 MiB)")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="start-up runs per command")
    parser.add_argument("--size-mb", type=int, default=100, help="transfer size")
    parser.add_argument("--rounds", type=int, default=3, help="transfer rounds")
    parser.add_argument(
        "--no-warm",
        dest="warm",
        action="store_false",
        help="skip touching memory before the transfers (see the module docstring)",
    )
    args = parser.parse_args()
    startup(args.runs)
    transfers(args.size_mb, args.rounds, args.warm)


if __name__ == "__main__":
    main()
