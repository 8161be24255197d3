"""The blog's seed workload in CPython, for the ratio against Python's own concurrent.futures.

Usage: python3 sum_primes.py seq|thread|process  -> one JSON line with coldMs and warmMs.
"""
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

NUMBERS = [100_000 + i * 20_000 for i in range(16)]
CHECKSUM = 46_974_496_440


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
    return sum(i for i in range(2, n) if is_prime(i))


def timed(run):
    start = time.perf_counter()
    total = sum(run())
    assert total == CHECKSUM, total
    return (time.perf_counter() - start) * 1000


def main(mode):
    if mode == "seq":
        cold = timed(lambda: map(sum_primes, NUMBERS))
        warm = timed(lambda: map(sum_primes, NUMBERS))
    else:
        executor_class = ProcessPoolExecutor if mode == "process" else ThreadPoolExecutor
        start = time.perf_counter()
        with executor_class(max_workers=2) as ex:
            assert sum(ex.map(sum_primes, NUMBERS)) == CHECKSUM
        cold = (time.perf_counter() - start) * 1000
        with executor_class(max_workers=2) as ex:
            list(ex.map(sum_primes, NUMBERS))
            warm = timed(lambda: ex.map(sum_primes, NUMBERS))
    print(json.dumps({"contender": f"python-{mode}", "scenario": "primes", "coldMs": cold, "warmMs": warm}))


if __name__ == "__main__":
    main(sys.argv[1])
