"""One run of `forage bench --python`, in a fresh interpreter.

Usage: python3 concurrency_bench.py '<json spec>' where the spec has workload (cpu|io),
mode (sequential|threads|processes), workers, primes, url and requests. Prints one JSON line
with the warm and cold pass times, the CPU time (this process and its reaped children) and a
checksum.

The functions are the blog's: naive odd-divisor trial division, and one GET per request.
"""

import json
import resource
import sys
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def is_prime(n):
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
    return True


def sum_primes(n):
    return sum(p for p in range(2, n) if is_prime(p))


def http_get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return len(response.read())


def cpu_ms():
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total * 1000


def main():
    spec = json.loads(sys.argv[1])
    fn = sum_primes if spec["workload"] == "cpu" else http_get
    inputs = spec["primes"] if spec["workload"] == "cpu" else [spec["url"]] * spec["requests"]
    # A cold pass (creating the pool, starting its workers), then the measured warm pass, as in
    # the Node harness; I/O work warms up with two requests per worker only.
    warm_inputs = inputs if spec["workload"] == "cpu" else inputs[: spec["workers"] * 2]
    cpu0 = cpu_ms()
    t0 = time.perf_counter()
    mode = spec["mode"]
    if mode == "sequential":
        sum(fn(x) for x in warm_inputs)
        t1 = time.perf_counter()
        checksum = sum(fn(x) for x in inputs)
        t2 = time.perf_counter()
    else:
        pool = ThreadPoolExecutor if mode == "threads" else ProcessPoolExecutor
        with pool(max_workers=spec["workers"]) as executor:
            sum(executor.map(fn, warm_inputs))
            t1 = time.perf_counter()
            checksum = sum(executor.map(fn, inputs))
            t2 = time.perf_counter()
    result = {
        "wallMs": (t2 - t1) * 1000,
        "coldMs": (t1 - t0) * 1000,
        "cpuMs": cpu_ms() - cpu0,
        "checksum": checksum,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
