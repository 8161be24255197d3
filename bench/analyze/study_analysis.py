"""The 2016 study's analysis (generate_bar_chart.py, parse_data) without the plotting.

A faithful equivalent for comparison: it reads a blog-format file line by line with
json.loads, sums int(bytes) per language and counts appearances in plain dicts, divides sum by
count, and sorts each table descending with Python's stable sort (ties stay in order of first
appearance), exactly as the study did. matplotlib is not needed: instead of drawing the three
bar charts it prints their data as JSON: {"totalSize": [[lang, GB], ...], ...}.

Usage: python3 study_analysis.py FILE [TOP]
"""

import json
import sys


def aggregate(path):
    total_bytes = {}
    appearances = {}
    with open(path) as lines:
        for line in lines:
            for language, size in json.loads(line).items():
                if language not in total_bytes:
                    total_bytes[language] = 0
                if language not in appearances:
                    appearances[language] = 0
                total_bytes[language] += int(size)
                appearances[language] += 1
    return total_bytes, appearances


def top(table, n):
    return sorted(table.items(), reverse=True, key=lambda item: item[1])[:n]


def figures(path, n=10):
    total_bytes, appearances = aggregate(path)
    mean_bytes = {lang: total_bytes[lang] / appearances[lang] for lang in total_bytes}
    return {
        "totalSize": [[lang, b / (1024 * 1024 * 1024)] for lang, b in top(total_bytes, n)],
        "reposAppearedIn": [[lang, c] for lang, c in top(appearances, n)],
        "megabytesPerRepo": [[lang, m / (1024 * 1024)] for lang, m in top(mean_bytes, n)],
    }


if __name__ == "__main__":
    print(json.dumps(figures(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10)))
