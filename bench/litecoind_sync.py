#!/usr/bin/env python3
"""Fresh-node sync benchmark of Litecoin Core (Debian's `litecoind`) in -regtest, on loopback.

The Bitcoin-family reference for OxCoin's sync benchmark (issue 5, `sync_bench`): node A holds a
regtest chain of BLOCKS blocks carrying TRANSFERS simple payments (one input, a payment and a
change output, P2WPKH, signed with ECDSA); a fresh node B, started with `-connect=<A>`, downloads
and validates it. Measured: wall time from B's start until B's `getblockcount` equals A's (polled
every 100 ms), B's peak RSS (VmHWM), B's and A's CPU time.

Every script is verified on B: `-assumevalid=0` (regtest's default assumevalid is already none, so
this only makes it explicit) and no checkpoints apply on regtest. Both nodes run with
`-checkblockindex=0 -checkmempool=0`: regtest turns Core's internal consistency checks on by
default (main and test nets do not), and they cost ~10x here. MWEB is kept from activating
(`-vbparams=mweb:<2100>:<max>`), so these are Bitcoin Core 0.21 rules. B stays in initial block
download for the whole sync (`-maxtipage` negative), as a fresh node syncing an old chain does.

The chain is built once and cached under /tmp (keyed by its parameters, see --cache-root):
- A mines SETUP blocks to a wallet address (scrypt PoW at regtest's limit is cheap);
- one `sendmany` funds LANES lane outputs (one per payment slot of a block), mined in one block;
- each later block carries about TRANSFERS / (BLOCKS - SETUP - 1) payments: lane i spends its last
  change output, paying 0.01 LTC to one of 1,000 recipient addresses and the rest (minus a fee of
  0.0002 LTC) back to the lane. Transactions are created, signed (`signrawtransactionwithkey`) and
  sent with batched JSON-RPC, then `generatetoaddress 1` mines them.

Python 3.11 standard library only. Everything listens on 127.0.0.1; both nodes are stopped (RPC
`stop`, then SIGKILL after 30 s) and B's data dir removed at the end. Prints one JSON line on
stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

COIN = 100_000_000
PAYMENT = 1_000_000  # 0.01 LTC per payment, in litoshis
FEE = 20_000  # 0.0002 LTC per payment (~140 vB): ~140 litoshi/vB, far above the relay minimum
RECIPIENTS = 1_000
CACHE_VERSION = 1
MWEB_NEVER = 4_102_444_800  # 2100-01-01: a start time no block of ours reaches
# -maxtipage of A: a cached chain may be days old, and a node whose tip is older than this stays
# in initial block download, where it does not answer getheaders.
SERVE = 2_000_000_000
# -maxtipage of B: negative, so that B stays in initial block download for the whole sync as a
# fresh node syncing an old chain does (our blocks are minutes old: with the default of 24 h, B
# would leave it after block 1 and sync ~20 % slower, relaying each block as it connects).
STAY_IN_IBD = -2_000_000_000


def log(message: str) -> None:
    print(f"[litecoind_sync {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ltc(litoshis: int) -> str:
    return str(Decimal(litoshis) / COIN)


def to_litoshis(amount) -> int:
    return int(Decimal(str(amount)) * COIN)


class RpcError(Exception):
    def __init__(self, error: dict):
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = error.get("code")


class Rpc:
    """JSON-RPC 1.0 over one keep-alive HTTP connection, with batches."""

    def __init__(self, port: int, user: str, password: str, wallet: str | None = None):
        self.port = port
        self.path = f"/wallet/{wallet}" if wallet else "/"
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}
        self.conn: http.client.HTTPConnection | None = None

    def _post(self, body):
        data = json.dumps(body).encode()
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            try:
                self.conn.request("POST", self.path, data, self.headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        if response.status == 401:
            raise RuntimeError("RPC authentication failed")
        return json.loads(raw, parse_float=Decimal)

    def call(self, method: str, *params):
        reply = self._post({"jsonrpc": "1.0", "id": 0, "method": method, "params": list(params)})
        if reply.get("error"):
            raise RpcError(reply["error"])
        return reply["result"]

    def batch(self, calls: list[tuple]):
        if not calls:
            return []
        body = [{"jsonrpc": "1.0", "id": i, "method": m, "params": list(p)} for i, (m, *p) in enumerate(calls)]
        replies = sorted(self._post(body), key=lambda r: r["id"])
        results = []
        for (method, *_), reply in zip(calls, replies):
            if reply.get("error"):
                raise RuntimeError(f"{method}: {reply['error']}")
            results.append(reply["result"])
        return results

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Node:
    """One litecoind process on loopback."""

    def __init__(
        self, name: str, binary: str, datadir: Path, extra: list[str], listen: bool = False, max_tip_age: int = SERVE
    ):
        self.name = name
        self.datadir = datadir
        self.port = free_port()
        self.rpcport = free_port()
        self.user = "bench"
        self.password = secrets.token_hex(16)
        datadir.mkdir(parents=True, exist_ok=True)
        self.args = [
            binary,
            "-regtest",
            f"-datadir={datadir}",
            "-server=1",
            f"-port={self.port}",
            *(["-listen=1", f"-bind=127.0.0.1:{self.port}"] if listen else ["-listen=0"]),
            f"-rpcport={self.rpcport}",
            "-rpcbind=127.0.0.1",
            "-rpcallowip=127.0.0.1",
            f"-rpcuser={self.user}",
            f"-rpcpassword={self.password}",
            "-rpcthreads=4",
            "-dnsseed=0",
            "-discover=0",
            "-upnp=0",
            "-listenonion=0",
            "-onlynet=ipv4",
            "-txindex=0",
            "-assumevalid=0",
            # Regtest turns on Core's internal consistency checks by default (a walk of the whole
            # block index after every block, a full mempool check after every change); main and
            # test nets run without them, and they are debugging aids, not validation. With
            # them on, this sync runs ~10x slower and slows down as the chain grows.
            "-checkblockindex=0",
            "-checkmempool=0",
            f"-maxtipage={max_tip_age}",
            "-printtoconsole=0",
            # Keep MWEB (Litecoin's extension blocks) from activating at height 432: the payments
            # are plain segwit v0 transactions, validated as Bitcoin Core 0.21 would. (Once
            # active, regtest cannot mine a block without a peg-in, litecoin-project/litecoin#807.)
            f"-vbparams=mweb:{MWEB_NEVER}:{2**63 - 1}",
            *extra,
        ]
        self.proc: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            self.args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def rpc(self, wallet: str | None = None) -> Rpc:
        return Rpc(self.rpcport, self.user, self.password, wallet)

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Waits until RPC answers outside warm-up; returns the seconds since start."""
        rpc = self.rpc()
        deadline = time.monotonic() + timeout
        while True:
            try:
                rpc.call("getblockcount")
                rpc.close()
                return time.monotonic() - self.started
            except (ConnectionError, OSError, http.client.HTTPException, RpcError):
                rpc.close()
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}): {self.proc.stderr.read().decode()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not answer RPC within {timeout} s")
            time.sleep(0.05)

    def status_field(self, field: str) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no {field} in /proc/{self.proc.pid}/status")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        stopping = time.monotonic()
        try:
            rpc = self.rpc()
            rpc.call("stop")
            rpc.close()
        except Exception:  # noqa: BLE001 - fall back to a signal
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log(f"{self.name} did not stop within 30 s: killing it")
            self.proc.kill()
            self.proc.wait()
        log(f"{self.name} stopped in {time.monotonic() - stopping:.1f} s")


def script_addresses(script: dict) -> list[str]:
    """The addresses of an output script as 0.21 (`addresses`) or later versions (`address`) show them."""
    return script.get("addresses") or [script.get("address")]


def cache_dir(root: Path, blocks: int, transfers: int) -> Path:
    return root / f"litecoind-regtest-b{blocks}-t{transfers}-v{CACHE_VERSION}"


def build_chain(node: Node, blocks: int, transfers: int) -> dict:
    """Builds the chain on the running node A; returns its description."""
    rpc = node.rpc()
    rpc.call("createwallet", "bench")
    wallet = node.rpc("bench")
    setup_start = time.monotonic()
    # Coins: regtest pays 50 LTC per block for its first 150 blocks; a reward matures after 100.
    # SETUP blocks give enough matured rewards to fund every lane with its payments and fees.
    setup = 150
    payment_blocks = blocks - setup - 1
    if payment_blocks <= 0:
        raise SystemExit(f"--blocks must exceed {setup + 1}")
    lane_count = -(-transfers // payment_blocks)  # payments in the fullest block
    # Lane i pays in every block holding more than i payments: at most once per payment block.
    per_lane = (payment_blocks + 1) * (PAYMENT + FEE) + COIN
    if (setup - 100) * 50 * COIN < lane_count * per_lane + COIN:
        raise SystemExit("not enough matured regtest rewards for these parameters")

    miner = wallet.call("getnewaddress", "miner", "bech32")
    recipients = wallet.batch([("getnewaddress", "recipient", "bech32") for _ in range(RECIPIENTS)])
    lane_addresses = wallet.batch([("getnewaddress", "lane", "bech32") for _ in range(lane_count)])
    lane_keys = wallet.batch([("dumpprivkey", a) for a in lane_addresses])
    log(f"mining {setup} setup blocks")
    rpc.call("generatetoaddress", setup, miner)
    log(f"funding {lane_count} lanes of {ltc(per_lane)} LTC with one sendmany")
    fund_txid = wallet.call("sendmany", "", {a: ltc(per_lane) for a in lane_addresses})
    rpc.call("generatetoaddress", 1, miner)
    fund_tx = wallet.call("gettransaction", fund_txid, False, True)["decoded"]
    lanes = []  # (txid, vout, value, address, key)
    for i, address in enumerate(lane_addresses):
        vout = next(o for o in fund_tx["vout"] if address in script_addresses(o["scriptPubKey"]))
        lanes.append([fund_txid, vout["n"], to_litoshis(vout["value"]), address, lane_keys[i]])
    # From here on the wallet would only slow A down (it would track every lane and payment).
    rpc.call("unloadwallet", "bench")
    wallet.close()
    log(f"setup done in {time.monotonic() - setup_start:.1f} s; building {payment_blocks} blocks of payments")

    built = time.monotonic()
    sent = 0
    recipient_index = 0
    for b in range(payment_blocks):
        # Spread TRANSFERS evenly over the payment blocks.
        count = (b + 1) * transfers // payment_blocks - b * transfers // payment_blocks
        creates = []
        for lane in lanes[:count]:
            txid, vout, value, address, _key = lane
            change = value - PAYMENT - FEE
            recipient = recipients[recipient_index % RECIPIENTS]
            recipient_index += 1
            creates.append(
                (
                    "createrawtransaction",
                    [{"txid": txid, "vout": vout}],
                    [{recipient: ltc(PAYMENT)}, {address: ltc(change)}],
                )
            )
        raws = rpc.batch(creates)
        signed = rpc.batch([("signrawtransactionwithkey", raw, [lane[4]]) for raw, lane in zip(raws, lanes)])
        for s in signed:
            if not s["complete"]:
                raise RuntimeError(f"signing failed: {s}")
        txids = rpc.batch([("sendrawtransaction", s["hex"]) for s in signed])
        for txid, lane in zip(txids, lanes):
            lane[0], lane[1], lane[2] = txid, 1, lane[2] - PAYMENT - FEE
        rpc.call("generatetoaddress", 1, miner)
        sent += count
        if (b + 1) % 500 == 0:
            elapsed = time.monotonic() - built
            log(f"  {b + 1}/{payment_blocks} blocks, {sent} payments, {sent / elapsed:.0f} payments/s")
    height = rpc.call("getblockcount")
    stats = rpc.call("getchaintxstats")
    mempool = rpc.call("getmempoolinfo")["size"]
    if height != blocks or mempool != 0:
        raise RuntimeError(f"built height {height} (want {blocks}), mempool {mempool} (want 0)")
    # txcount counts the genesis coinbase, every block's coinbase and the funding transaction.
    payments = stats["txcount"] - (height + 1) - 1
    if payments != transfers:
        raise RuntimeError(f"the chain holds {payments} payments, {transfers} wanted")
    tip = rpc.call("getbestblockhash")
    rpc.close()
    return {
        "blocks": height,
        "tip": tip,
        "txcount": stats["txcount"],
        "payments": payments,
        "setup_blocks": setup + 1,
        "lanes": lane_count,
        "build_seconds": round(time.monotonic() - setup_start, 1),
    }


def complete_or_cleared(marker: Path) -> dict | None:
    """Returns the description in `marker` when its cache folder is complete (the marker is
    written last); otherwise removes whatever an interrupted build left and returns None."""
    if marker.exists():
        return json.loads(marker.read_text())
    if marker.parent.exists():
        shutil.rmtree(marker.parent)
    return None


def cached_chain(args) -> tuple[Path, dict]:
    """Returns A's data dir holding the chain, building it when the cache lacks it."""
    directory = cache_dir(Path(args.cache_root), args.blocks, args.transfers)
    marker = directory / "chain.json"
    if (description := complete_or_cleared(marker)) is not None:
        return directory, description
    log(f"building a {args.blocks}-block chain with {args.transfers} payments in {directory}")
    node = Node("A (builder)", args.litecoind, directory, ["-connect=0", "-fallbackfee=0.0001"])
    node.start()
    try:
        node.wait_ready()
        description = build_chain(node, args.blocks, args.transfers)
    finally:
        node.stop()
    marker.write_text(json.dumps(description))
    log(f"chain built in {description['build_seconds']} s")
    return directory, description


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", type=int, default=10_000)
    parser.add_argument("--transfers", type=int, default=200_000)
    parser.add_argument("--cache-root", default="/tmp/oxcoin-bench", help="where built chains are kept")
    parser.add_argument("--litecoind", default=shutil.which("litecoind") or "litecoind")
    parser.add_argument("--runs", type=int, default=1, help="syncs to measure (one JSON line each)")
    parser.add_argument("--b-arg", action="append", default=[], help="extra litecoind argument for B (repeatable); with -txindex=1 the clock also waits for the index to catch up")
    parser.add_argument("--timeout", type=float, default=3600.0, help="give up a sync after this many seconds")
    args = parser.parse_args()

    version = subprocess.run([args.litecoind, "-version"], capture_output=True, text=True, check=True)
    version = version.stdout.splitlines()[0]
    directory, chain = cached_chain(args)

    a = Node("A", args.litecoind, directory, ["-connect=0", "-whitelist=download@127.0.0.1"], listen=True)
    a.start()
    try:
        log(f"A up in {a.wait_ready():.1f} s")
        rpc_a = a.rpc()
        target = rpc_a.call("getblockcount")
        tip = rpc_a.call("getbestblockhash")
        if target != chain["blocks"] or tip != chain["tip"]:
            raise RuntimeError(f"cached chain is at {target} {tip}, expected {chain['blocks']} {chain['tip']}")
        # An open keep-alive RPC connection would hold A's `stop` for -rpcservertimeout (30 s).
        rpc_a.close()
        for _ in range(args.runs):
            print(json.dumps(measure_sync(args, a, target, chain, version)), flush=True)
    finally:
        a.stop()


def index_synced(rpc) -> bool:
    """Whether B's transaction index has caught up with its tip (`getindexinfo`)."""
    try:
        return bool(rpc.call("getindexinfo").get("txindex", {}).get("synced"))
    except RpcError:
        return False


def measure_sync(args, a: Node, target: int, chain: dict, version: str) -> dict:
    load_before = loadavg()
    work = Path(tempfile.mkdtemp(prefix="litecoind-sync-B-"))
    b = Node(
        "B",
        args.litecoind,
        work,
        [f"-connect=127.0.0.1:{a.port}", "-disablewallet=1", *args.b_arg],
        max_tip_age=STAY_IN_IBD,
    )
    indexing = "-txindex=1" in args.b_arg
    a_cpu = a.cpu_seconds()
    b.start()
    try:
        ready = b.wait_ready()
        rpc_b = b.rpc()
        height = 0
        while True:
            try:
                height = rpc_b.call("getblockcount")
            except RpcError:
                pass
            if height >= target and (not indexing or index_synced(rpc_b)):
                break
            if b.proc.poll() is not None:
                raise RuntimeError(f"B exited ({b.proc.returncode})")
            if time.monotonic() - b.started > args.timeout:
                raise RuntimeError(f"B reached only {height}/{target} within {args.timeout} s")
            time.sleep(0.1)
        seconds = time.monotonic() - b.started
        peak_rss = b.status_field("VmHWM")
        b_cpu = b.cpu_seconds()
        a_used = a.cpu_seconds() - a_cpu
        stats = rpc_b.call("getchaintxstats")
        in_ibd = rpc_b.call("getblockchaininfo")["initialblockdownload"]
        if rpc_b.call("getbestblockhash") != chain["tip"]:
            raise RuntimeError("B synced another tip")
        rpc_b.close()
        payments = stats["txcount"] - (target + 1) - 1
    finally:
        b.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {
        "node": version,
        "blocks": target,
        "transactions": stats["txcount"],
        "payments": payments,
        "seconds": round(seconds, 3),
        "startup_seconds": round(ready, 3),
        "blocks_per_s": round(target / seconds, 1),
        "payments_per_s": round(payments / seconds, 1),
        "transactions_per_s": round(stats["txcount"] / seconds, 1),
        "peak_rss_mb": round(peak_rss / 2**20, 1),
        "b_in_initial_block_download": in_ibd,
        "b_cpu_seconds": round(b_cpu, 2),
        "a_cpu_seconds": round(a_used, 2),
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
        "chain": chain,
    }


if __name__ == "__main__":
    main()
