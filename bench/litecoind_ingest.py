#!/usr/bin/env python3
"""Transaction ingest benchmark of Litecoin Core (Debian's `litecoind`) in -regtest, on loopback.

The Bitcoin-family reference for OxCoin's `POST /txs` ingest benchmark (issue 7, `load_txs
--litecoind`). This script only prepares and serves the node; the load itself comes from
`tests/src/bin/load_txs.rs`, the same client code that loads OxCoin: one `sendrawtransaction`
JSON-RPC request per payment, as one transfer per `POST /txs`.

Prepared once and cached under /tmp (keyed by its parameters, see --cache-root):
- a regtest node mines SETUP blocks to a "miner" wallet;
- a second wallet ("keys") makes ADDRESSES addresses (P2WPKH) and gives up their keys; the miner
  wallet funds COUNT independent outputs of 0.02 LTC to them with one `sendmany` per
  ADDRESSES outputs (a block mined after every 10), so that address i holds outputs i, i +
  ADDRESSES, i + 2 * ADDRESSES, ... (the keys wallet never spends, so coin selection cannot eat
  them);
- COUNT payments are built (`createrawtransaction`) and signed (`signrawtransactionwithkey`) in
  batched JSON-RPC: each spends one of those outputs, paying 0.01 LTC to one of 1,000 recipient
  addresses and the rest, minus a fee of 0.0002 LTC, back to its address (1 input, 2 outputs,
  P2WPKH, ECDSA: 222 bytes, 141 vB). They are never sent: the cached node's mempool is empty.
  Their hex and txid go to a text file, one `<hex> <txid>` line per payment, in posting order.

Served: a copy of the cached data dir in a temp dir, litecoind on a free 127.0.0.1 port with the
wallet disabled, no peers, `-persistmempool=0`, a mempool big enough for every payment
(`-maxmempool`), an RPC work queue deeper than the load's connections (`-rpcworkqueue`, default 16:
64 keep-alive connections would see HTTP 503 "work queue depth exceeded"), and the consistency
checks regtest turns on by default turned off (`-checkblockindex=0 -checkmempool=0`; with
`-checkmempool` on, every accepted transaction walks the whole mempool). MWEB is kept from
activating, as in `litecoind_sync.py`. The script prints one JSON line on stdout (the RPC URL with
its credentials, the payments file, the node's pid and flags), keeps the node running until its
stdin closes, then stops it and removes the copy.

Python 3.11 standard library only; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import litecoind_sync  # noqa: E402 - next to this script
from litecoind_sync import (  # noqa: E402
    COIN,
    Node,
    Rpc,
    complete_or_cleared,
    loadavg,
    ltc,
    script_addresses,
    to_litoshis,
)

CACHE_VERSION = 1
OUTPUT = 2_000_000  # 0.02 LTC per funded output, in litoshis
PAYMENT = 1_000_000  # 0.01 LTC per payment
FEE = 20_000  # 0.0002 LTC per payment (141 vB): ~140 litoshi/vB, far above the relay minimum
RECIPIENTS = 1_000
SETUP = 200  # regtest: 50 LTC a block for 150 blocks, then 25; a reward matures after 100
FUNDINGS_PER_BLOCK = 10  # sendmany transactions of <= 1,000 outputs (~31 kB) per mined block
BATCH = 1_000  # JSON-RPC calls per batch
# Flags of the served node beside litecoind_sync.Node's (loopback, regtest checks off, MWEB off).
SERVE_FLAGS = [
    "-connect=0",
    "-disablewallet=1",
    "-persistmempool=0",
    "-maxmempool=2000",
    "-rpcworkqueue=1024",
]


def log(message: str) -> None:
    print(f"[litecoind_ingest {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# litecoind_sync.Node logs through its module's `log`: label those lines with this script's name.
litecoind_sync.log = log


def cache_dir(root: Path, count: int, addresses: int) -> Path:
    return root / f"litecoind-ingest-n{count}-a{addresses}-v{CACHE_VERSION}"


def batched(rpc: Rpc, calls: list[tuple]) -> list:
    results = []
    for start in range(0, len(calls), BATCH):
        results.extend(rpc.batch(calls[start : start + BATCH]))
    return results


def build(node: Node, count: int, addresses: int, txs_path: Path) -> dict:
    """Funds COUNT outputs on the running node and writes COUNT signed payments; returns the description."""
    started = time.monotonic()
    rpc = node.rpc()
    rpc.call("createwallet", "miner")
    rpc.call("createwallet", "keys")
    miner = node.rpc("miner")
    keys = node.rpc("keys")
    matured = 50 * COIN * (SETUP - 100)
    if count * OUTPUT + COIN > matured:
        raise SystemExit(f"--count {count} needs more than the {ltc(matured)} LTC of {SETUP} regtest blocks")

    mine_to = miner.call("getnewaddress", "mine", "bech32")
    log(f"mining {SETUP} setup blocks")
    rpc.call("generatetoaddress", SETUP, mine_to)
    owners = keys.batch([("getnewaddress", "owner", "bech32") for _ in range(addresses)])
    owner_keys = keys.batch([("dumpprivkey", a) for a in owners])
    recipients = keys.batch([("getnewaddress", "recipient", "bech32") for _ in range(RECIPIENTS)])
    index_of = {a: i for i, a in enumerate(owners)}

    rounds = -(-count // addresses)
    log(f"funding {count} outputs of {ltc(OUTPUT)} LTC with {rounds} sendmany of up to {addresses} outputs")
    funding = []
    for r in range(rounds):
        n = min(addresses, count - r * addresses)
        funding.append(miner.call("sendmany", "", {a: ltc(OUTPUT) for a in owners[:n]}))
        if (r + 1) % FUNDINGS_PER_BLOCK == 0:
            rpc.call("generatetoaddress", 1, mine_to)
    while rpc.call("getmempoolinfo")["size"] > 0:
        rpc.call("generatetoaddress", 1, mine_to)

    # outputs[a] lists address a's funded outputs in funding order.
    outputs: list[list[tuple[str, int]]] = [[] for _ in owners]
    for txid in funding:
        tx = miner.call("gettransaction", txid, False, True)["decoded"]
        for out in tx["vout"]:
            address = script_addresses(out["scriptPubKey"])[0]
            if address in index_of and to_litoshis(out["value"]) == OUTPUT:
                outputs[index_of[address]].append((txid, out["n"]))
    spends = []  # (txid, vout, owner index), in posting order: address i % A, its output i // A
    for i in range(count):
        a = i % addresses
        txid, vout = outputs[a][i // addresses]
        spends.append((txid, vout, a))
    # An open keep-alive RPC connection would hold `stop` for -rpcservertimeout (30 s).
    miner.close()
    keys.close()
    rpc.call("unloadwallet", "miner")
    rpc.call("unloadwallet", "keys")
    funded = time.monotonic()
    log(f"funded in {funded - started:.1f} s; building and signing {count} payments")

    raws = batched(
        rpc,
        [
            (
                "createrawtransaction",
                [{"txid": txid, "vout": vout}],
                [{recipients[i % RECIPIENTS]: ltc(PAYMENT)}, {owners[a]: ltc(OUTPUT - PAYMENT - FEE)}],
            )
            for i, (txid, vout, a) in enumerate(spends)
        ],
    )
    signed = batched(
        rpc, [("signrawtransactionwithkey", raw, [owner_keys[a]]) for raw, (_, _, a) in zip(raws, spends)]
    )
    if not all(s["complete"] for s in signed):
        raise RuntimeError("a payment could not be signed")
    hexes = [s["hex"] for s in signed]
    decoded = batched(rpc, [("decoderawtransaction", h) for h in hexes])
    # A sample must pass mempool acceptance (without being added) before it is cached.
    sample = [r[0] for r in rpc.batch([("testmempoolaccept", [h]) for h in hexes[:25]])]
    if not all(r["allowed"] for r in sample):
        raise RuntimeError(f"a payment is not accepted: {sample}")
    with txs_path.open("w") as f:
        f.write(f"# {count} signed regtest payments, one '<raw hex> <txid>' per line, posting order\n")
        for h, d in zip(hexes, decoded):
            f.write(f"{h} {d['txid']}\n")
    height = rpc.call("getblockcount")
    rpc.close()
    return {
        "payments": count,
        "addresses": addresses,
        "height": height,
        "payment_bytes": decoded[0]["size"],
        "payment_vbytes": decoded[0]["vsize"],
        "fee_litoshis": FEE,
        "fund_seconds": round(funded - started, 1),
        "sign_seconds": round(time.monotonic() - funded, 1),
    }


def cached(args) -> tuple[Path, dict]:
    """Returns the cache folder (node data dir `node/`, payments `txs.txt`), building it when missing."""
    directory = cache_dir(Path(args.cache_root), args.count, args.addresses)
    marker = directory / "setup.json"
    if (description := complete_or_cleared(marker)) is not None:
        return directory, description
    directory.mkdir(parents=True)
    log(f"preparing {args.count} payments in {directory}")
    node = Node(
        "builder",
        args.litecoind,
        directory / "node",
        ["-connect=0", "-fallbackfee=0.0001", "-persistmempool=0", "-rpcworkqueue=64"],
    )
    node.start()
    try:
        node.wait_ready()
        description = build(node, args.count, args.addresses, directory / "txs.txt")
    finally:
        node.stop()
    marker.write_text(json.dumps(description))
    log(f"prepared in {description['fund_seconds'] + description['sign_seconds']:.1f} s")
    return directory, description


def serve(args, directory: Path, setup: dict, version: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="litecoind-ingest-"))
    shutil.copytree(directory / "node", work / "node")
    flags = [*SERVE_FLAGS, *args.node_arg]
    node = Node("litecoind", args.litecoind, work / "node", flags)
    node.start()
    try:
        log(f"up in {node.wait_ready():.1f} s (pid {node.proc.pid})")
        rpc = node.rpc()
        mempool = rpc.call("getmempoolinfo")["size"]
        height = rpc.call("getblockcount")
        # An open keep-alive RPC connection would hold `stop` for -rpcservertimeout (30 s).
        rpc.close()
        if mempool != 0 or height != setup["height"]:
            raise RuntimeError(f"the copy is at height {height} with {mempool} pending; want {setup['height']} and 0")
        line = {
            "rpc_url": f"http://{node.user}:{node.password}@127.0.0.1:{node.rpcport}/",
            "raw_txs": str(directory / "txs.txt"),
            "pid": node.proc.pid,
            "node": version,
            "flags": [a for a in node.args[1:] if not a.startswith(("-rpcpassword", "-rpcuser", "-datadir"))],
            "setup": setup,
            "loadavg": loadavg(),
        }
        print(json.dumps(line), flush=True)
        # Serve until whoever reads the line closes our stdin (or exits).
        sys.stdin.read()
    finally:
        node.stop()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=60_000, help="payments to prepare")
    parser.add_argument("--addresses", type=int, default=1_000, help="addresses holding the funded outputs")
    parser.add_argument("--cache-root", default="/tmp/oxcoin-bench", help="where prepared nodes are kept")
    parser.add_argument("--litecoind", default=shutil.which("litecoind") or "litecoind")
    parser.add_argument("--node-arg", action="append", default=[], help="extra litecoind argument (repeatable)")
    parser.add_argument("--prepare-only", action="store_true", help="build the cache, print its description, exit")
    args = parser.parse_args()
    if args.count <= 0 or not 0 < args.addresses <= 1_000:
        raise SystemExit("--count must be positive and --addresses within 1..1000")

    version = subprocess.run([args.litecoind, "-version"], capture_output=True, text=True, check=True)
    version = version.stdout.splitlines()[0]
    directory, setup = cached(args)
    if args.prepare_only:
        print(json.dumps({"cache": str(directory), "node": version, "setup": setup}), flush=True)
        return
    serve(args, directory, setup, version)


if __name__ == "__main__":
    main()
