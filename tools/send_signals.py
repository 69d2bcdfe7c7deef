#!/usr/bin/env python3
"""Send reference `signal.generated` JSON lines to tradeflow's TCP source (standard library only).

Examples:
  tradeflow run --tcp 127.0.0.1:7001 --duration 60 &
  tools/send_signals.py --count 1000 --rate 200            # generated signals, 200/s
  tools/send_signals.py --file signals.jsonl               # replay a file (one JSON object per line)
  tools/send_signals.py --count 10 --symbols BTCUSDT --models ensemble_v2 --json-acks

Each line is answered by tradeflow with {"trace_id":..,"status":"accepted"|"rejected","reason":..};
the script reads the answers on a second thread and prints a summary (accepted, rejected by
reason). Exit status: 0 when every line was answered, 1 otherwise, 2 on bad options or a failed
connection.
"""

import argparse
import collections
import json
import random
import socket
import sys
import threading
import time
import uuid


def generated(args):
    rng = random.Random(args.seed)
    for _ in range(args.count):
        yield json.dumps(
            {
                "symbol": rng.choice(args.symbols),
                "side": rng.choice(["BUY", "SELL"]),
                "confidence": round(rng.uniform(0.5, 0.95), 4),
                "timeframe": rng.choice(["1m", "5m", "15m", "1h"]),
                "model_version": rng.choice(args.models),
                "trace_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            },
            separators=(",", ":"),
        )


def from_file(path):
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line:
                yield line


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7001)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--file", help="reference JSON lines to send (one signal per line)")
    src.add_argument("--count", type=int, default=100, help="signals to generate (default 100)")
    p.add_argument("--rate", type=float, default=0.0, help="lines per second (0 = as fast as possible)")
    p.add_argument("--symbols", nargs="+", default=["BTCUSDT", "ETHUSDT", "SOLUSDT"])
    p.add_argument("--models", nargs="+", default=["ensemble_v2", "lgbm_v5", "tft_v1"])
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-acks", action="store_true", help="tradeflow runs with [ingress.tcp] acks = false")
    p.add_argument("--json-acks", action="store_true", help="print every answer as it arrives")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the last answers")
    args = p.parse_args()
    if args.count is not None and args.count < 0 or args.rate < 0:
        p.error("--count and --rate must be >= 0")

    try:
        sock = socket.create_connection((args.host, args.port), timeout=5)
    except OSError as e:
        print(f"send_signals: cannot connect to {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    sock.settimeout(None)
    counts = collections.Counter()
    reasons = collections.Counter()
    done = threading.Event()

    def reader():
        f = sock.makefile("r", encoding="utf-8")
        for line in f:
            try:
                a = json.loads(line)
            except ValueError:
                counts["unreadable"] += 1
                continue
            counts[a.get("status", "?")] += 1
            if a.get("status") == "rejected":
                reasons[(a.get("reason") or "").split(":")[0]] += 1
            if args.json_acks:
                print(line.rstrip())
        done.set()

    if not args.no_acks:
        threading.Thread(target=reader, daemon=True).start()

    lines = from_file(args.file) if args.file else generated(args)
    sent = 0
    start = time.monotonic()
    for line in lines:
        if args.rate > 0:
            due = start + sent / args.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        sock.sendall(line.encode("utf-8") + b"\n")
        sent += 1
    elapsed = time.monotonic() - start

    answered = 0
    if not args.no_acks:
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline and sum(counts.values()) < sent and not done.is_set():
            time.sleep(0.01)
        answered = sum(counts.values())
    sock.close()
    rate = sent / elapsed if elapsed > 0 else float("inf")
    print(f"sent {sent} in {elapsed:.3f} s ({rate:.0f}/s)")
    if not args.no_acks:
        print(f"accepted {counts['accepted']} rejected {counts['rejected']} answered {answered}/{sent}")
        for reason, n in reasons.most_common():
            print(f"  rejected {reason}: {n}")
        return 0 if answered == sent else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
