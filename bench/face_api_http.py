"""HTTP throughput and latency of the face API under concurrent load, with 1 and 2 gunicorn workers.

For each worker count the script starts ``gunicorn 'face_api.server:create_app()'`` on a free
127.0.0.1 port, waits for /healthz, then keeps ``--concurrency`` client threads posting the same photo
to /api/detect (multipart, default analyses) until ``--duration`` seconds or ``--max-requests``
requests, whichever comes first. It prints requests per second and p50/p99 latency per worker count.

NOTE: the client threads run on the same machine as the server and compete with it for CPU, so on a
2-core machine the 2-worker numbers understate what two dedicated cores would serve.

Usage: python bench/face_api_http.py [--image PATH] [--workers 1 2] [--concurrency 4] [--duration 20] [--quick]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import requests

from practicekit import find_data_path

REPO_ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")


@dataclass
class LoadResult:
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed_s: float = 0.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(workers: int, port: int, log_path: Path) -> subprocess.Popen:
    command = [str(GUNICORN), "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--no-control-socket",
               "--log-level", "warning", "face_api.server:create_app()"]
    with open(log_path, "w") as log:
        return subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)


def wait_until_healthy(base_url: str, server: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            if requests.get(f"{base_url}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet, or the workers are still loading the models
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not respond on /healthz within {timeout_s} s")


def run_load(url: str, photo: bytes, concurrency: int, duration_s: float, max_requests: int) -> LoadResult:
    """Post ``photo`` from ``concurrency`` threads until the time or request budget is spent."""
    result = LoadResult()
    lock = threading.Lock()
    issued = [0]
    deadline = time.monotonic() + duration_s

    def client() -> None:
        session = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                if issued[0] >= max_requests:
                    return
                issued[0] += 1
            started = time.perf_counter()
            try:
                response = session.post(url, files={"image": ("photo.jpg", photo)}, timeout=60)
                ok = response.status_code == 200
            except requests.RequestException:
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    result.latencies_s.append(elapsed)
                else:
                    result.errors += 1

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed_s = time.perf_counter() - started
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path,
                        help="photo to post (default: faces/obama_small.jpg in $AI_PRACTICE_DATA)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="gunicorn worker counts to measure (default: 1 2)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (default: 4)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per worker count (default: 20)")
    parser.add_argument("--max-requests", type=int, default=500, help="request budget per worker count")
    parser.add_argument("--quick", action="store_true", help="5 s and 60 requests per worker count (a smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.max_requests = 5.0, 60

    image = args.image
    if image is None:
        faces = find_data_path("faces")
        image = faces / "obama_small.jpg" if faces else None
    if image is None or not image.is_file():
        print("error: no photo found; set AI_PRACTICE_DATA to a folder with faces/, or pass --image", file=sys.stderr)
        return 2
    if not GUNICORN.exists():
        print(f"error: gunicorn not found next to {sys.executable}; install it in this environment", file=sys.stderr)
        return 2
    photo = image.read_bytes()

    print(f"POST /api/detect with {image.name} ({len(photo):,} bytes), {args.concurrency} client threads, "
          f"at most {args.duration:g} s or {args.max_requests} requests per row")
    header = f"{'workers':>7} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}"
    print(header)
    print("-" * len(header))
    for workers in args.workers:
        port = free_port()
        log_path = Path(f"/tmp/face_api_http_bench_{port}.log")
        server = start_server(workers, port, log_path)
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base_url, server)
            # Warm-up: one request per worker so the first timed ones do not pay for lazy work.
            run_load(f"{base_url}/api/detect", photo, workers, 60, workers * 2)
            result = run_load(f"{base_url}/api/detect", photo, args.concurrency, args.duration, args.max_requests)
        finally:
            server.terminate()
            server.wait(timeout=30)
            log_path.unlink(missing_ok=True)
        latencies_ms = np.array(result.latencies_s) * 1000
        done = len(latencies_ms)
        p50 = np.percentile(latencies_ms, 50) if done else float("nan")
        p99 = np.percentile(latencies_ms, 99) if done else float("nan")
        print(f"{workers:>7} {done:>8} {result.errors:>6} {done / result.elapsed_s:>7.1f} {p50:>8.1f} {p99:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
