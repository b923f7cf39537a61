#!/usr/bin/env python3
"""Compares two running nodes on the same chain, query by query: answers and latency.

Usage: python3 bench/compare_queries.py --a http://127.0.0.1:PORT_A --b http://127.0.0.1:PORT_B
       [--blocks 300] [--queries 1500] [--seed 7]

For a change to the store or the API that must not change what the node answers (a new store
layout, say): run the old binary on a copy of a chain and the new one on the same chain, then
this script. It reads --blocks random blocks of B's best chain, takes the senders and recipients
of their transfers and their txids, and asks both nodes for up to --queries histories
(`GET /api/v1/addresses/{a}/txs`) and as many transaction lookups (`GET /api/v1/txs/{txid}`),
in a random order, alternating which node is asked first. The first round compares every answer
(`confirmations` aside, which moves with the tip) and exits 1 at the first difference; the second
round times each request (one keep-alive connection per node) and prints p50, p90 and p99 per
kind and node. Both nodes should be otherwise idle, on loopback. Python 3 standard library only.
"""

import argparse
import http.client
import json
import random
import sys
import time
import urllib.parse


def connect(url: str) -> http.client.HTTPConnection:
    parsed = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=30)


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    conn.request("GET", path)
    response = conn.getresponse()
    return response.status, response.read()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def comparable(body: bytes):
    value = json.loads(body)
    if isinstance(value, dict):
        value.pop("confirmations", None)
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", required=True, help="the first node's URL (e.g. the old binary)")
    parser.add_argument("--b", required=True, help="the second node's URL (e.g. the new binary)")
    parser.add_argument("--blocks", type=int, default=300, help="random blocks to take addresses and txids from")
    parser.add_argument("--queries", type=int, default=1500, help="histories, and as many tx lookups")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    nodes = {"A": connect(args.a), "B": connect(args.b)}

    status, body = get(nodes["B"], "/api/v1/status")
    if status != 200:
        print(f"B answered {status} to /api/v1/status", file=sys.stderr)
        return 2
    height = json.loads(body)["height"]
    addresses: set[str] = set()
    txids: list[str] = []
    for h in rng.sample(range(1, height + 1), min(args.blocks, height)):
        status, body = get(nodes["B"], f"/api/v1/blocks/{h}")
        for tx in json.loads(body).get("txs", []):
            if tx.get("kind") == "transfer":
                addresses.update((tx["from"], tx["to"]))
                txids.append(tx["txid"])
    picked = sorted(addresses)
    rng.shuffle(picked)
    rng.shuffle(txids)
    paths = [("history", f"/api/v1/addresses/{a}/txs") for a in picked[: args.queries]]
    paths += [("tx", f"/api/v1/txs/{t}") for t in txids[: args.queries]]
    rng.shuffle(paths)
    print(f"height {height}: {len(paths)} queries ({len(picked)} addresses, {len(txids)} txids seen)")

    times: dict[tuple[str, str], list[float]] = {}
    for round_ in ("compare", "time"):
        for kind, path in paths:
            order = ["A", "B"] if rng.random() < 0.5 else ["B", "A"]
            answers = {}
            for name in order:
                started = time.perf_counter()
                status, body = get(nodes[name], path)
                took = time.perf_counter() - started
                if status != 200:
                    print(f"{name} answered {status} to {path}: {body[:200]!r}", file=sys.stderr)
                    return 1
                answers[name] = body
                if round_ == "time":
                    times.setdefault((kind, name), []).append(took * 1e3)
            if round_ == "compare" and comparable(answers["A"]) != comparable(answers["B"]):
                print(f"the answers to {path} differ:\nA {answers['A'][:400]!r}\nB {answers['B'][:400]!r}")
                return 1
    print(f"every answer equal ({len(paths)} queries, `confirmations` aside)")
    for (kind, name), xs in sorted(times.items()):
        p50, p90, p99 = (percentile(xs, q) for q in (0.5, 0.9, 0.99))
        print(f"{kind:8} {name}: p50 {p50:.3f} ms, p90 {p90:.3f}, p99 {p99:.3f} ({len(xs)} requests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
