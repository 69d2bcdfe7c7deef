#!/usr/bin/env python3
"""Send reference `signal.generated` signals to tradeflow (standard library only): as JSON lines
to its TCP source, or as entries of the Redis stream its Redis source reads.

Examples:
  tradeflow run --tcp 127.0.0.1:7001 --duration 60 &
  tools/send_signals.py --count 1000 --rate 200            # generated signals, 200/s
  tools/send_signals.py --file signals.jsonl               # replay a file (one JSON object per line)
  tools/send_signals.py --count 10 --symbols BTCUSDT --models ensemble_v2 --json-acks

  tradeflow run --signals-redis redis://127.0.0.1:6379 --duration 60 &
  tools/send_signals.py --redis redis://127.0.0.1:6379 --count 1000 --rate 200

Generated signals carry "timestamp" = the send time (epoch seconds), so a run with
[ingress.tcp] origin = "timestamp" measures latency from the moment the line left this script.

Over TCP each line is answered by tradeflow with
{"trace_id":..,"status":"accepted"|"rejected"|"busy","reason":..}; the script reads the answers
on a second thread and prints a summary (accepted, busy, rejected by reason). Exit status: 0
when every line was answered, 1 otherwise, 2 on bad options or a failed connection. With
--redis, each signal is XADDed to --stream in the reference wire format (the JSON in the
"payload" field); the exit status is 0 when Redis took every entry.
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
    """Signals as dicts; "timestamp" is set when each is sent."""
    rng = random.Random(args.seed)
    for _ in range(args.count):
        yield {
            "symbol": rng.choice(args.symbols),
            "side": rng.choice(["BUY", "SELL"]),
            "confidence": round(rng.uniform(0.5, 0.95), 4),
            "timeframe": rng.choice(["1m", "5m", "15m", "1h"]),
            "model_version": rng.choice(args.models),
            "trace_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        }


def encode(signal):
    if isinstance(signal, dict):
        signal = dict(signal, timestamp=round(time.time(), 6))
        return json.dumps(signal, separators=(",", ":"))
    return signal


def resp_command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode("utf-8")
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def resp_reply(f):
    """One RESP2 reply from a binary file object (bulk strings and arrays included)."""
    line = f.readline()
    if not line:
        raise ConnectionError("Redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"-":
        raise RuntimeError(rest.decode("utf-8", "replace"))
    if kind in (b"+", b":"):
        return rest.decode("utf-8", "replace")
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode("utf-8", "replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [resp_reply(f) for _ in range(n)]
    raise RuntimeError(f"unexpected reply {line!r}")


def send_redis(args, signals):
    """XADDs every signal in the reference wire format; returns the exit status."""
    from urllib.parse import unquote, urlparse

    url = urlparse(args.redis)
    if url.scheme != "redis":
        print("send_signals: --redis must be redis://[user:password@]host:port[/db]", file=sys.stderr)
        return 2
    try:
        sock = socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=5)
    except OSError as e:
        print(f"send_signals: cannot connect to Redis at {url.hostname}:{url.port or 6379}: {e}", file=sys.stderr)
        return 2
    f = sock.makefile("rb")
    try:
        if url.password:
            user = [unquote(url.username)] if url.username else []
            sock.sendall(resp_command("AUTH", *user, unquote(url.password)))
            resp_reply(f)
        db = (url.path or "/").lstrip("/")
        if db and db != "0":
            sock.sendall(resp_command("SELECT", db))
            resp_reply(f)
        sent, start = 0, time.monotonic()
        for signal in signals:
            if args.rate > 0:
                delay = start + sent / args.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            payload = encode(signal)
            try:
                trace = json.loads(payload).get("trace_id") or ""
            except ValueError:
                trace = ""
            now = time.time()
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%06dZ" % int(now % 1 * 1e6)
            sock.sendall(
                resp_command(
                    "XADD", args.stream, "*", "event_type", "signal.generated", "payload", payload,
                    "trace_id", trace, "correlation_id", "", "timestamp", stamp, "source", "send_signals",
                )
            )
            resp_reply(f)
            sent += 1
    except (OSError, RuntimeError, ConnectionError) as e:
        print(f"send_signals: Redis refused: {e}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - start
    print(f"added {sent} entries to {args.stream} in {elapsed:.3f} s ({sent / elapsed if elapsed > 0 else 0:.0f}/s)")
    return 0


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
    p.add_argument("--redis", metavar="URL", help="XADD to a Redis stream instead of sending over TCP")
    p.add_argument("--stream", default="quantum:stream:signal.generated", help="stream for --redis")
    args = p.parse_args()
    if args.count is not None and args.count < 0 or args.rate < 0:
        p.error("--count and --rate must be >= 0")
    if args.redis:
        return send_redis(args, from_file(args.file) if args.file else generated(args))

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
        try:
            read_answers(f)
        except OSError:  # the connection was closed under the reader: the sender reports it
            pass
        done.set()

    def read_answers(f):
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
        try:
            sock.sendall(encode(line).encode("utf-8") + b"\n")
        except OSError as e:  # BrokenPipeError, ConnectionResetError: tradeflow closed it
            print(f"send_signals: tradeflow closed the connection after {sent} lines ({e})", file=sys.stderr)
            sock.close()
            return 3
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
        print(
            f"accepted {counts['accepted']} rejected {counts['rejected']} busy {counts['busy']} "
            f"answered {answered}/{sent}"
        )
        for reason, n in reasons.most_common():
            print(f"  rejected {reason}: {n}")
        return 0 if answered == sent else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
