#!/usr/bin/env python3
"""Follow one exact order book from bookcast's data bus, the zguide's Clone way.

    clone_subscriber.py --market usdm --symbol BTCUSDT

The bookbuilder publishes every change of a book on the topic book.<market>.<SYMBOL>, each
message stamped with `seq` (counted per topic from 1), and its snapshot service answers with the
whole book stamped with the seq of the last book message already in it. A subscriber that joins
at any time therefore:

  1. subscribes to the book topic first, and queues what arrives;
  2. asks the snapshot service for the book;
  3. drops the queued messages with seq <= the snapshot's seq and applies the others in order,
     then every new message as it arrives.

A seq that does not follow the one before means messages were lost (this program fell more than
its high-water mark behind, or the bookbuilder restarted and counts from 1 again): the book is
asked for again. A book message of type "snapshot" is a whole book (the bookbuilder sends one
after every resync) and replaces what is held; "update" messages give levels to set, where a
quantity of "0" removes the level.

The topic status.<market>.<SYMBOL> says whether the bookbuilder's book is synced. While it
resyncs, no book message is published at all, so without it a subscriber could not tell a quiet
book from a stale one.

Prices and quantities are decimal strings on the bus and stay decimal.Decimal here, never float,
so the book is exact and prints exactly as the exchange wrote it.

Needs ZeroMQ for Python: `apt-get install python3-zmq` (Debian, Ubuntu) or `pip install pyzmq`.
"""
import argparse
import collections
import decimal
import json
import signal
import sys
import time

import zmq

REQUEST_TIMEOUT_S = 2.0  # no answer by then: the request is dropped and sent again
RETRY_DELAY_S = 1.0      # after an error answer (a book the bookbuilder does not know yet)
MAX_QUEUED = 100_000     # messages kept at most while waiting for a snapshot


class Book:
    """Both sides of one book: price -> quantity, as Decimal."""

    def __init__(self):
        self.bids = {}
        self.asks = {}

    def replace(self, bids, asks):
        self.bids = {decimal.Decimal(p): decimal.Decimal(q) for p, q in bids}
        self.asks = {decimal.Decimal(p): decimal.Decimal(q) for p, q in asks}

    def update(self, bids, asks):
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for p, q in levels:
                price, qty = decimal.Decimal(p), decimal.Decimal(q)
                if qty == 0:
                    side.pop(price, None)
                else:
                    side[price] = qty

    def best_bid(self):
        return max(self.bids) if self.bids else None

    def best_ask(self):
        return min(self.asks) if self.asks else None

    def levels(self):
        """Both sides best first, as [price, qty] strings (the bus's own form)."""
        def side(levels, best_first_reverse):
            return [[dec_text(p), dec_text(levels[p])]
                    for p in sorted(levels, reverse=best_first_reverse)]
        return side(self.bids, True), side(self.asks, False)


def dec_text(d):
    # format "f" keeps the trailing zeros and never switches to exponent form (str() would
    # write 0.00000010 as 1.0E-7).
    return format(d, "f")


class CloneFollower:
    """The Clone pattern's client state for one book: what is held and what comes next."""

    def __init__(self, market, symbol):
        self.market, self.symbol = market, symbol
        self.book_topic = f"book.{market}.{symbol}".encode()
        self.status_topic = f"status.{market}.{symbol}".encode()
        self.book = Book()
        self.seq = None        # seq of the last book message applied; None: waiting for a snapshot
        # True from a snapshot service answer to the first book message newer than it: until
        # then, messages the answer already holds may still arrive, and are dropped.
        self.joining = False
        self.state = "unknown"  # the bookbuilder's state of this book
        # (topic, body) received while waiting for a snapshot. When it is full the oldest go:
        # they are older than the coming snapshot anyway, or their loss shows as a seq gap.
        self.queue = collections.deque(maxlen=MAX_QUEUED)
        self.stats = {"received": 0, "applied": 0, "dropped_old": 0, "snapshots": 0, "gaps": 0}

    def waiting(self):
        return self.seq is None

    def on_message(self, topic, body):
        """One message of our topics. False when it showed a gap: the book must be asked for
        again (waiting() is then true)."""
        if self.waiting():
            self.queue.append((topic, body))
            return True
        if topic == self.status_topic:
            # Status messages are applied in the order published, so after the last one the
            # state is the bookbuilder's current one, whatever the snapshot said before.
            self.state = body["state"]
            return True
        return self.on_book(body)

    def on_book(self, msg):
        seq = msg["seq"]
        if msg["type"] == "snapshot":
            # A whole book needs nothing before it. It is also how a restarted bookbuilder
            # (seq from 1 again) begins every book.
            self.book.replace(msg["bids"], msg["asks"])
            self.seq = seq
            self.joining = False
            self.stats["applied"] += 1
            return True
        if self.joining and seq <= self.seq:
            self.stats["dropped_old"] += 1  # already in the snapshot we were given
            return True
        # Anything but the next seq, lower ones included, means lost messages: ZeroMQ delivers
        # in order, so a lower seq is a restarted bookbuilder whose first message we missed.
        if seq != self.seq + 1:
            self.stats["gaps"] += 1
            print(f"{self.market} {self.symbol}: seq gap: expected {self.seq + 1}, got {seq}; "
                  "asking for the book again", file=sys.stderr)
            self.seq = None
            # Kept, in front of anything queued after it, for the next snapshot to sort out.
            self.queue.appendleft((self.book_topic, msg))
            return False
        self.book.update(msg["bids"], msg["asks"])
        self.seq = seq
        self.joining = False
        self.stats["applied"] += 1
        return True

    def on_snapshot(self, answer):
        """The snapshot service's answer. False when it is an error: ask again a little later."""
        if "error" in answer:
            print(f"{self.market} {self.symbol}: snapshot service: {answer['error']}",
                  file=sys.stderr)
            return False
        self.stats["snapshots"] += 1
        self.book.replace(answer["bids"], answer["asks"])  # empty unless the book is synced
        self.seq = answer["seq"]
        self.joining = True
        self.state = answer["state"]
        while self.queue and not self.waiting():
            topic, body = self.queue.popleft()
            self.on_message(topic, body)  # a gap here puts us back to waiting, queue kept
        return True

    def top_line(self):
        bid, ask = self.book.best_bid(), self.book.best_ask()
        bid_text = "-" if bid is None else f"{dec_text(bid)} x {dec_text(self.book.bids[bid])}"
        ask_text = "-" if ask is None else f"{dec_text(ask)} x {dec_text(self.book.asks[ask])}"
        return (f"{time.strftime('%H:%M:%S')} {self.market} {self.symbol} seq {self.seq} "
                f"{self.state}: bid {bid_text} | ask {ask_text} "
                f"({len(self.book.bids)}/{len(self.book.asks)} levels)")

    def dump(self):
        bids, asks = self.book.levels()
        return {"market": self.market, "symbol": self.symbol, "seq": self.seq,
                "state": self.state, "bids": bids, "asks": asks, "stats": self.stats}


class SnapshotClient:
    """REQ to the snapshot service. A REQ socket whose answer never comes cannot send again, so
    after a timeout it is closed and a fresh one made (the zguide's Lazy Pirate)."""

    def __init__(self, ctx, endpoint):
        self.ctx, self.endpoint = ctx, endpoint
        self.socket = None
        self.deadline = None  # when the request in flight times out; None: none in flight

    def in_flight(self):
        return self.deadline is not None

    def request(self, market, symbol):
        if self.socket is None:
            self.socket = self.ctx.socket(zmq.REQ)
            self.socket.setsockopt(zmq.LINGER, 0)
            self.socket.connect(self.endpoint)
        body = {"op": "book", "market": market, "symbol": symbol, "depth": 0}  # 0: every level
        self.socket.send(json.dumps(body).encode())
        self.deadline = time.monotonic() + REQUEST_TIMEOUT_S

    def receive(self):
        self.deadline = None
        return json.loads(self.socket.recv(), parse_float=decimal.Decimal)

    def timed_out(self):
        if not self.in_flight() or time.monotonic() < self.deadline:
            return False
        self.socket.close()
        self.socket = None
        self.deadline = None
        return True


def follow(args):
    stop = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.append(signum))
    out = sys.stderr if args.dump_json else sys.stdout

    ctx = zmq.Context()
    follower = CloneFollower(args.market, args.symbol.upper())
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    # ZeroMQ filters by prefix: book.usdm.BTCUSDT also matches book.usdm.BTCUSDT_251226, so the
    # topic frame is compared exactly below.
    sub.setsockopt(zmq.SUBSCRIBE, follower.book_topic)
    sub.setsockopt(zmq.SUBSCRIBE, follower.status_topic)
    sub.connect(args.data)
    snapshots = SnapshotClient(ctx, args.snapshot)

    ask_after = 0.0  # no request before then (after an error answer)
    end = time.monotonic() + args.seconds if args.seconds > 0 else None
    next_print = time.monotonic() + args.print_interval
    while not stop and (end is None or time.monotonic() < end):
        # Subscribed before asking, so whatever the snapshot lacks is already being queued.
        # This one rule also asks again after a gap, a timeout or an error answer.
        if follower.waiting() and not snapshots.in_flight() and time.monotonic() >= ask_after:
            snapshots.request(follower.market, follower.symbol)

        poller = zmq.Poller()
        poller.register(sub, zmq.POLLIN)
        if snapshots.in_flight():
            poller.register(snapshots.socket, zmq.POLLIN)
        ready = dict(poller.poll(100))

        if sub in ready:
            for _ in range(10_000):  # a bounded batch, so the rest of the loop gets its turn
                try:
                    frames = sub.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                if len(frames) != 2 or frames[0] not in (follower.book_topic,
                                                         follower.status_topic):
                    continue  # another symbol whose name begins with ours
                follower.stats["received"] += 1
                follower.on_message(frames[0], json.loads(frames[1],
                                                          parse_float=decimal.Decimal))

        if snapshots.in_flight() and snapshots.socket in ready:
            if not follower.on_snapshot(snapshots.receive()):
                ask_after = time.monotonic() + RETRY_DELAY_S
        elif snapshots.timed_out():
            print(f"snapshot service {args.snapshot}: no answer in {REQUEST_TIMEOUT_S} s; "
                  "asking again", file=sys.stderr)

        if time.monotonic() >= next_print:
            next_print += args.print_interval
            print(follower.top_line() if not follower.waiting()
                  else f"{follower.market} {follower.symbol}: waiting for the snapshot",
                  file=out, flush=True)

    if args.dump_json:
        print(json.dumps(follower.dump()), flush=True)
    sub.close()
    if snapshots.socket is not None:
        snapshots.socket.close()
    ctx.term()
    return 0


def main():
    parser = argparse.ArgumentParser(
        description="Follow one order book from the bookcast data bus (ZeroMQ Clone pattern).")
    parser.add_argument("--data", default="tcp://127.0.0.1:7100",
                        help="data bus endpoint (bus.data; default %(default)s)")
    parser.add_argument("--snapshot", default="tcp://127.0.0.1:7103",
                        help="snapshot service endpoint (bus.snapshot; default %(default)s)")
    parser.add_argument("--market", default="spot", choices=("spot", "usdm", "coinm"))
    parser.add_argument("--symbol", default="BTCUSDT")
    parser.add_argument("--seconds", type=float, default=0,
                        help="stop after this long (default: until Ctrl-C)")
    parser.add_argument("--print-interval", type=float, default=1.0,
                        help="seconds between two top-of-book lines (default %(default)s)")
    parser.add_argument("--dump-json", action="store_true",
                        help="at the end, print the book with its seq as one JSON line on stdout "
                             "(top-of-book lines then go to stderr)")
    return follow(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
