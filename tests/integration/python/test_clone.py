#!/usr/bin/python3
"""The data bus and snapshot service as a Python program sees them, against the real pipeline.

    test_clone.py clone|slow --sim BIN --collector BIN --bookbuilder BIN --source DIR
                  [--keep] [--data-hwm N] [--usdm-depth-speed-ms MS]

Starts bookcast-sim, collectors and the bookbuilder on free loopback ports in a temporary
directory, runs one scenario, and stops everything it started by pid.

clone  docs/examples/clone_subscriber.py, started late while books are flowing, ends with
       exactly the book and seq the snapshot service holds. To compare exactly the feed is
       frozen first: the sim's `stall` fault stops every symbol while the connections stay up,
       so the books stay synced and the bus goes quiet. (Stopping the collectors instead
       would not do: a closed connection makes the bookbuilder drop its books, see below.)
       Then the collectors are stopped: the service answers "resyncing" with an empty book and
       the example, which follows status.<market>.<SYMBOL>, reports its book as not synced.

slow   a subscriber that stops reading while many books update (small high-water marks on both
       ends) sees seq gaps, while a subscriber reading at the same time sees none, the
       bookbuilder's heartbeats keep coming with growing messages_out and its books stay
       synced.

Exit status 0 when every check passes, 1 otherwise (the logs of the programs are then printed).
Needs Debian's python3-zmq.
"""
import argparse
import importlib.util
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

try:
    import zmq
except ImportError:
    sys.exit(f"{sys.executable} has no zmq module: install python3-zmq (scripts/deps.sh)")


STARTED = time.monotonic()


class CheckFailed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise CheckFailed(what)
    print(f"[{time.monotonic() - STARTED:5.1f} s] ok: {what}", flush=True)


def free_port():
    # Free when asked; another program could still take it before ours binds it. That is rare,
    # and shows as a program that exits at start with the reason in its log.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, timeout_s, probe, interval_s=0.2):
    """Calls probe until it returns something true, and returns that; fails after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise CheckFailed(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(interval_s)


# ---- processes ---------------------------------------------------------------------------------

class Pipeline:
    """The programs of one test, each started here and stopped by its pid."""

    def __init__(self, args, workdir):
        self.args = args
        self.dir = workdir
        self.procs = {}  # name -> (Popen, log path), in start order
        self.exit_codes = {}
        self.endpoints = {k: f"tcp://127.0.0.1:{free_port()}"
                          for k in ("data", "frames", "control", "snapshot", "status")}
        self.sim_ports = {}
        # Without BOOKCAST_* from the caller's environment and with the temporary directory as
        # the working directory (no config/bookcast.json), only the --set options below count.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKCAST_")}
        certs = os.path.join(workdir, "certs")
        subprocess.run([os.path.join(args.source, "sim", "make-certs.sh"), certs], check=True,
                       stdout=subprocess.DEVNULL, env=self.env, timeout=60)
        self.ca = os.path.join(certs, "ca.pem")
        self.cert = os.path.join(certs, "server.pem")
        self.key = os.path.join(certs, "server.key")

    def start(self, name, argv):
        log = os.path.join(self.dir, f"{name}.log")
        with open(log, "wb") as out:
            p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=self.dir,
                                 env=self.env)
        self.procs[name] = (p, log)
        print(f"started {name} (pid {p.pid})", flush=True)
        return p

    def bus_sets(self):
        sets = []
        for key, endpoint in self.endpoints.items():
            sets += ["--set", f"bus.{key}={endpoint}"]
        return sets

    def start_sim(self, markets, extra):
        argv = [self.args.sim, "--cert", self.cert, "--key", self.key]
        for m in ("spot", "usdm", "coinm"):
            self.sim_ports[m] = free_port() if m in markets else 0
            argv += [f"--{m}-port", str(self.sim_ports[m])]
        self.start("sim", argv + extra)
        for m in markets:
            wait_until(f"the sim's {m} listener", 20,
                       lambda m=m: self.check_alive() and self.sim_get(m, "/_sim/status"))

    def market_sets(self, markets):
        sets = []
        for m in ("spot", "usdm", "coinm"):
            if m not in markets:
                sets += ["--set", f"markets.{m}.enabled=false"]
                continue
            port = self.sim_ports[m]
            sets += ["--set", f"markets.{m}.ws_url=wss://127.0.0.1:{port}",
                     "--set", f"markets.{m}.rest_url=https://127.0.0.1:{port}",
                     "--set", f"markets.{m}.ca_file={self.ca}",
                     "--set", f"markets.{m}.symbols={markets[m]}"]
        return sets

    def start_bookbuilder(self, markets, extra_sets=()):
        argv = [self.args.bookbuilder] + self.bus_sets() + self.market_sets(markets)
        for s in extra_sets:
            argv += ["--set", s]
        self.start("bookbuilder", argv)

    def start_collector(self, market, markets, extra_sets=()):
        argv = [self.args.collector, "--market", market] + self.bus_sets() + \
            self.market_sets(markets)
        for s in extra_sets:
            argv += ["--set", s]
        self.start(f"collector-{market}", argv)

    def sim_get(self, market, path):
        """GET on the sim's control API; the JSON answer, or None when it cannot be had."""
        ctx = ssl.create_default_context(cafile=self.ca)
        url = f"https://127.0.0.1:{self.sim_ports[market]}{path}"
        try:
            with urllib.request.urlopen(url, context=ctx, timeout=5) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return None

    def stop(self, name, timeout_s=15):
        """SIGTERM, then SIGKILL after timeout_s. Returns the exit status (negative: signal)."""
        if name in self.exit_codes:
            return self.exit_codes[name]
        p, _ = self.procs[name]
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.communicate(timeout=timeout_s)  # reads what an example writes on its pipe
            except subprocess.TimeoutExpired:
                print(f"{name} (pid {p.pid}) ignored SIGTERM for {timeout_s} s: SIGKILL",
                      flush=True)
                p.kill()
                p.communicate()
        self.exit_codes[name] = p.returncode
        print(f"{name} exited with status {p.returncode}", flush=True)
        return p.returncode

    def stop_all(self):
        for name in reversed(list(self.procs)):
            self.stop(name)

    def running(self, name):
        return self.procs[name][0].poll() is None

    def check_alive(self):
        """True, or CheckFailed naming a program that exited without being asked to."""
        for name, (p, _) in self.procs.items():
            if name not in self.exit_codes and p.poll() is not None:
                self.exit_codes[name] = p.returncode
                raise CheckFailed(f"{name} exited on its own with status {p.returncode}")
        return True

    def print_logs(self, lines=40):
        for name, (_, log) in self.procs.items():
            print(f"---- last {lines} lines of {name}.log ({log})")
            try:
                with open(log, errors="replace") as f:
                    print("".join(f.readlines()[-lines:]), end="")
            except OSError as e:
                print(f"(cannot read: {e})")


# ---- bus clients -------------------------------------------------------------------------------

def body_seq(body):
    # Every body begins {"seq":N, (publish.c writes seq first), so the hot loop of the
    # subscribers below need not parse the whole JSON.
    if not body.startswith(b'{"seq":'):
        return None
    return int(body[7:body.index(b",")])


class BusRecorder(threading.Thread):
    """Reads the data bus as fast as it can in its own thread, keeping per topic the message
    count, the last seq and the gaps seen."""

    def __init__(self, ctx, endpoint):
        super().__init__(daemon=True)
        self.ctx, self.endpoint = ctx, endpoint
        self.lock = threading.Lock()
        self.topics = {}  # topic -> [count, last seq, gaps]
        self.total = 0
        self.last_rx = time.monotonic()
        self.max_silence_s = 0.0
        self.stopping = threading.Event()
        self.error = None

    def run(self):
        try:
            sub = self.ctx.socket(zmq.SUB)
            sub.setsockopt(zmq.LINGER, 0)
            sub.setsockopt(zmq.RCVHWM, 0)  # this one never lets messages go
            sub.setsockopt(zmq.SUBSCRIBE, b"")
            sub.connect(self.endpoint)
            while not self.stopping.is_set():
                if not sub.poll(100):
                    continue
                for _ in range(10_000):  # then look at self.stopping again
                    try:
                        topic, body = sub.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    self.record(topic, body_seq(body))
            sub.close()
        except Exception as e:  # reported by the main thread
            self.error = e

    def record(self, topic, seq):
        now = time.monotonic()
        with self.lock:
            self.max_silence_s = max(self.max_silence_s, now - self.last_rx)
            self.last_rx = now
            self.total += 1
            t = self.topics.setdefault(topic, [0, None, 0])
            if t[1] is not None and seq != t[1] + 1:
                t[2] += 1
            t[0] += 1
            t[1] = seq

    def quiet_for(self):
        with self.lock:
            return time.monotonic() - self.last_rx

    def snapshot(self):
        with self.lock:
            return {k: list(v) for k, v in self.topics.items()}, self.total

    def stop(self):
        self.stopping.set()
        self.join(5)


class StatusListener(threading.Thread):
    """Binds SUB on bus.status, as the monitor does, and keeps the bookbuilder's heartbeats."""

    def __init__(self, ctx, endpoint):
        super().__init__(daemon=True)
        self.ctx, self.endpoint = ctx, endpoint
        self.lock = threading.Lock()
        self.beats = []  # (monotonic receive time, heartbeat)
        self.stopping = threading.Event()
        self.bound = threading.Event()
        self.error = None

    def run(self):
        try:
            sub = self.ctx.socket(zmq.SUB)
            sub.setsockopt(zmq.LINGER, 0)
            sub.setsockopt(zmq.SUBSCRIBE, b"status.bookbuilder.")
            sub.bind(self.endpoint)
            self.bound.set()
            while not self.stopping.is_set():
                if not sub.poll(100):
                    continue
                _, body = sub.recv_multipart()
                with self.lock:
                    self.beats.append((time.monotonic(), json.loads(body)))
            sub.close()
        except Exception as e:
            self.error = e
            self.bound.set()

    def between(self, t0, t1=float("inf")):
        with self.lock:
            return [b for t, b in self.beats if t0 <= t <= t1]

    def stop(self):
        self.stopping.set()
        self.join(5)


def snapshot_request(ctx, endpoint, request, timeout_s=5):
    req = ctx.socket(zmq.REQ)
    req.setsockopt(zmq.LINGER, 0)
    req.setsockopt(zmq.RCVTIMEO, int(timeout_s * 1000))
    req.connect(endpoint)
    try:
        req.send(json.dumps(request).encode())
        return json.loads(req.recv())
    except zmq.Again:
        raise CheckFailed(f"the snapshot service did not answer {request} in {timeout_s} s")
    finally:
        req.close()


def start_bookbuilder_then_collectors(ctx, pipe, markets, bookbuilder_sets, collector_sets):
    # The collectors start once the bookbuilder answers, so its sockets are bound: a collector
    # that is there first connects its control SUB and its frames PUSH separately, and a
    # snapshot request published before the SUB is subscribed is lost, which costs the book
    # bookbuilder.snapshot_timeout_ms (30 s) before it is asked again.
    pipe.start_bookbuilder(markets, bookbuilder_sets)
    snapshot_request(ctx, pipe.endpoints["snapshot"], {"op": "list"}, 30)
    for m in markets:
        pipe.start_collector(m, markets, collector_sets)


def wait_books_synced(ctx, pipe, expected, timeout_s):
    def all_synced():
        pipe.check_alive()
        books = snapshot_request(ctx, pipe.endpoints["snapshot"], {"op": "list"})["books"]
        synced = [b for b in books if b["state"] == "synced"]
        return len(synced) == expected and len(books) == expected
    wait_until(f"{expected} books synced", timeout_s, all_synced, 0.5)
    check(True, f"{expected} books synced")


# ---- clone: the example program ----------------------------------------------------------------

def start_example(pipe, market, symbol, name):
    example = os.path.join(pipe.args.source, "docs", "examples", "clone_subscriber.py")
    # --seconds only bounds a run the test forgets; the test ends it with SIGINT (Ctrl-C).
    argv = [sys.executable, example, "--data", pipe.endpoints["data"],
            "--snapshot", pipe.endpoints["snapshot"], "--market", market, "--symbol", symbol,
            "--seconds", "150", "--print-interval", "0.5", "--dump-json"]
    err = open(os.path.join(pipe.dir, f"{name}.log"), "wb")
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, cwd=pipe.dir, env=pipe.env)
    err.close()
    pipe.procs[name] = (p, os.path.join(pipe.dir, f"{name}.log"))
    print(f"started {name} (pid {p.pid}): {market} {symbol}", flush=True)
    return p


def wait_example_synced(pipe, name):
    """Until the example's top-of-book lines (on stderr, in its log) say it holds a synced
    book."""
    log = pipe.procs[name][1]

    def synced():
        pipe.check_alive()
        with open(log, errors="replace") as f:
            return " synced: bid " in f.read()
    wait_until(f"{name} holding a synced book", 30, synced)
    check(True, f"{name} holds a synced book")


def end_example(pipe, name):
    """Ctrl-C to the example; returns the book it dumps."""
    p, _ = pipe.procs[name]
    check(p.poll() is None, f"{name} still running before it is asked to stop")
    p.send_signal(signal.SIGINT)
    try:
        out, _ = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise CheckFailed(f"{name} did not stop within 15 s of SIGINT")
    pipe.exit_codes[name] = p.returncode
    check(p.returncode == 0, f"{name} exited 0 (got {p.returncode})")
    lines = out.decode().strip().splitlines()
    check(len(lines) == 1, f"{name} wrote exactly one JSON line on stdout")
    return json.loads(lines[0])


def compare_with_service(ctx, pipe, dump, label):
    answer = snapshot_request(ctx, pipe.endpoints["snapshot"],
                              {"op": "book", "market": dump["market"], "symbol": dump["symbol"],
                               "depth": 0})
    check("error" not in answer, f"{label}: the service knows the book" +
          (f" (it answered {answer['error']!r})" if "error" in answer else ""))
    check(answer["state"] == "synced", f"{label}: the service's book is synced")
    check(dump["state"] == "synced", f"{label}: the example holds it as synced")
    check(dump["seq"] == answer["seq"],
          f"{label}: seq {dump['seq']} equals the service's {answer['seq']}")
    check(len(answer["bids"]) > 0 and len(answer["asks"]) > 0, f"{label}: a two-sided book")
    for side in ("bids", "asks"):
        mine, theirs = dump[side], answer[side]
        if mine != theirs:
            extra = [l for l in mine if l not in theirs][:5]
            missing = [l for l in theirs if l not in mine][:5]
            raise CheckFailed(f"{label}: {side} differ: {len(mine)} levels vs the service's "
                              f"{len(theirs)}; only the example has {extra}, only the service "
                              f"has {missing}")
        check(True, f"{label}: {side} equal level for level ({len(mine)} levels)")
    return answer


def check_follower_rules(source):
    """The example's rules on made-up messages, where every case can be made to happen."""
    path = os.path.join(source, "docs", "examples", "clone_subscriber.py")
    sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
    spec = importlib.util.spec_from_file_location("clone_subscriber", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    f = example.CloneFollower("usdm", "BTCUSDT")
    book, status = f.book_topic, f.status_topic

    def msg(seq, kind="update", bids=(), asks=()):
        return {"seq": seq, "type": kind, "bids": [list(l) for l in bids],
                "asks": [list(l) for l in asks]}

    # Queued while the answer is on its way: 5 and 6 are in the snapshot (seq 6), 7 is not.
    f.on_message(book, msg(5, bids=[("100.10", "1")]))
    f.on_message(book, msg(6, bids=[("100.10", "0")]))
    f.on_message(status, {"seq": 3, "state": "synced"})
    f.on_message(book, msg(7, asks=[("101.00", "0.00000010")]))
    check(f.waiting() and len(f.queue) == 4, "rules: messages are queued until the snapshot")
    f.on_snapshot({"op": "book", "seq": 6, "state": "synced", "bids": [["100.00", "2"]],
                   "asks": [["101.00", "3"], ["101.50", "1"]]})
    check(f.seq == 7 and f.stats["dropped_old"] == 2,
          "rules: queued messages up to the snapshot's seq are dropped, later ones applied")
    check(f.dump()["asks"] == [["101.00", "0.00000010"], ["101.50", "1"]],
          "rules: decimals are kept exactly as written")
    check(f.on_message(book, msg(8, bids=[("100.00", "0")])) and f.dump()["bids"] == [],
          "rules: a quantity of 0 removes the level")
    check(not f.on_message(book, msg(10, bids=[("99.00", "1")])) and f.waiting(),
          "rules: a seq gap asks for the book again")
    f.on_message(book, msg(11, bids=[("98.00", "1")]))
    f.on_snapshot({"op": "book", "seq": 9, "state": "synced", "bids": [], "asks": []})
    check(f.seq == 11 and f.dump()["bids"] == [["99.00", "1"], ["98.00", "1"]],
          "rules: what was queued across the gap is applied after the new snapshot")
    check(not f.on_message(book, msg(5)) and f.waiting(),
          "rules: an update going back is a gap too")
    f.on_snapshot({"op": "book", "seq": 11, "state": "synced", "bids": [], "asks": []})
    f.on_message(book, msg(1, "snapshot", bids=[("50.0", "5")], asks=[("51.0", "5")]))
    check(f.seq == 1 and f.dump()["bids"] == [["50.0", "5"]],
          "rules: a snapshot message replaces the book whatever its seq (a restart)")
    f.on_message(status, {"seq": 4, "state": "resyncing"})
    check(f.dump()["state"] == "resyncing", "rules: the status topic gives the book's state")
    g = example.CloneFollower("spot", "BTCUSDT")
    check(not g.on_snapshot({"error": "unknown book"}) and g.waiting(),
          "rules: after an error answer it still waits for a snapshot")


def scenario_clone(ctx, pipe):
    check_follower_rules(pipe.args.source)
    markets = {"spot": "BTCUSDT,ETHUSDT", "usdm": "BTCUSDT,BTCUSDT_251226,ETHUSDT"}
    pipe.start_sim(markets, ["--symbols", "4", "--book-rate", "100", "--trade-rate", "5"])
    status = StatusListener(ctx, pipe.endpoints["status"])
    status.start()
    status.bound.wait(5)
    # A stalled symbol sends nothing, so the collectors must not take the silence for a dead
    # connection while the test compares books. USD-M at @0ms: every update is a book message,
    # so the examples join a busy topic.
    collector_sets = ["collector.stale_after_s=300", "markets.usdm.channels.depth_speed_ms=0"]
    start_bookbuilder_then_collectors(ctx, pipe, markets, [], collector_sets)
    recorder = BusRecorder(ctx, pipe.endpoints["data"])
    recorder.start()
    wait_books_synced(ctx, pipe, 5, 60)

    # Books flowing, including the one whose name only extends ours: the example must not mix
    # book.usdm.BTCUSDT_251226 into book.usdm.BTCUSDT.
    wait_until("updates on book.usdm.BTCUSDT and book.usdm.BTCUSDT_251226", 20, lambda: all(
        recorder.snapshot()[0].get(t, [0])[0] >= 5
        for t in (b"book.usdm.BTCUSDT", b"book.usdm.BTCUSDT_251226")))
    check(True, "books flowing before the examples start (they join late)")

    start_example(pipe, "usdm", "BTCUSDT", "example-usdm")
    start_example(pipe, "spot", "BTCUSDT", "example-spot")
    for name in ("example-usdm", "example-spot"):
        wait_example_synced(pipe, name)
    time.sleep(5)  # following live updates

    # Freeze the feed: every symbol of every market stalls, connections stay up.
    answer = pipe.sim_get("spot", "/_sim/fault?name=stall&market=all&ms=60000")
    check(answer is not None and answer.get("affected", 0) > 0,
          f"the sim stalled every symbol ({answer})")
    wait_until("a quiet data bus (1.5 s without a message)", 20,
               lambda: recorder.quiet_for() >= 1.5, 0.1)
    check(True, "the data bus is quiet")

    topics, _ = recorder.snapshot()
    for name in ("example-usdm", "example-spot"):
        dump = end_example(pipe, name)
        label = f"{dump['market']} {dump['symbol']}"
        print(f"{name}: {json.dumps(dump['stats'])}", flush=True)
        check(dump["stats"]["snapshots"] >= 1, f"{label}: the example used the service")
        check(dump["stats"]["applied"] > 0, f"{label}: the example applied live book messages")
        answer = compare_with_service(ctx, pipe, dump, label)
        bus = topics[f"book.{dump['market']}.{dump['symbol']}".encode()]
        check(bus[1] == answer["seq"], f"{label}: the last seq on the bus is the service's")
        check(bus[2] == 0, f"{label}: the test's own subscriber saw no gap")

    # Stopping the collectors ends their connections: the bookbuilder drops those books
    # ("disconnect") and says so on the status topics; no book message is sent for it.
    start_example(pipe, "usdm", "BTCUSDT", "example-stop")
    wait_example_synced(pipe, "example-stop")
    seq_before = recorder.snapshot()[0][b"book.usdm.BTCUSDT"][1]
    for m in markets:
        rc = pipe.stop(f"collector-{m}")
        check(rc == 0, f"collector-{m} exited 0 on SIGTERM")
    wait_until("a quiet data bus after the collectors stopped", 20,
               lambda: recorder.quiet_for() >= 1.5, 0.1)
    dump = end_example(pipe, "example-stop")
    answer = snapshot_request(ctx, pipe.endpoints["snapshot"],
                              {"op": "book", "market": "usdm", "symbol": "BTCUSDT"})
    check(answer["state"] != "synced" and answer["bids"] == [] and answer["asks"] == [],
          f"after the collectors stopped the service answers state {answer['state']!r} "
          f"(reason {answer['reason']!r}) with an empty book")
    check(answer["seq"] == seq_before, "no book message was published for the break")
    check(dump["state"] == answer["state"],
          f"the example reports its book as {dump['state']!r}, as the service does")
    check(dump["seq"] == answer["seq"], "the example's seq is the service's")
    served = status.between(0)[-1]["counters"]["snapshot_service_requests"]
    check(served >= 3, f"the bookbuilder's heartbeat counts the requests served ({served})")

    recorder.stop()
    status.stop()
    for t in (recorder, status):
        if t.error:
            raise CheckFailed(f"bus reader failed: {t.error!r}")


# ---- slow: one subscriber falls behind ---------------------------------------------------------

def scenario_slow(ctx, pipe):
    markets = {"spot": "ALL", "usdm": "ALL"}
    symbols = 50
    pipe.start_sim(markets, ["--symbols", str(symbols), "--book-rate", "200"])
    status = StatusListener(ctx, pipe.endpoints["status"])
    status.start()
    status.bound.wait(5)
    # 50 symbols' snapshots in the first minute: let the collectors spend the whole REST budget.
    collector_sets = [f"markets.usdm.channels.depth_speed_ms={pipe.args.usdm_depth_speed_ms}",
                      "markets.spot.rest_weight_share_pct=100",
                      "markets.usdm.rest_weight_share_pct=100"]
    start_bookbuilder_then_collectors(ctx, pipe, markets,
                                      [f"bookbuilder.data_hwm={pipe.args.data_hwm}"],
                                      collector_sets)
    books = symbols * len(markets)
    wait_books_synced(ctx, pipe, books, 120)

    fast = BusRecorder(ctx, pipe.endpoints["data"])
    fast.start()
    wait_until("the fast subscriber receiving", 10, lambda: fast.snapshot()[1] > 100)

    slow = ctx.socket(zmq.SUB)
    slow.setsockopt(zmq.LINGER, 0)
    slow.setsockopt(zmq.RCVHWM, 10)
    # A small kernel buffer keeps the backlog in ZeroMQ's queues, which drop at their marks.
    slow.setsockopt(zmq.RCVBUF, 4096)
    slow.setsockopt(zmq.SUBSCRIBE, b"book.")
    slow.connect(pipe.endpoints["data"])
    last = {}  # topic -> last seq seen by the slow subscriber

    def slow_read(seconds):
        gaps, count = 0, 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if not slow.poll(100):
                continue
            topic, body = slow.recv_multipart()
            seq = body_seq(body)
            if topic in last and seq != last[topic] + 1:
                gaps += 1
            last[topic] = seq
            count += 1
        return gaps, count

    slow_read(1.0)  # connected and receiving: every topic it reads from now on has a baseline
    check(len(last) > 0, f"the slow subscriber receives ({len(last)} book topics)")
    _, fast_total_before = fast.snapshot()
    t0 = time.monotonic()
    time.sleep(8)  # the slow subscriber reads nothing meanwhile
    t1 = time.monotonic()
    gaps, count = slow_read(3.0)
    print(f"slow subscriber after its pause: {count} messages, {gaps} seq gaps over "
          f"{len(last)} topics", flush=True)
    check(gaps > 0 and count > 0, "the slow subscriber sees seq gaps, and newer messages")

    fast_after, fast_total_after = fast.snapshot()
    fast.stop()
    check(fast.error is None, "the fast subscriber ran without error" +
          (f" (it failed: {fast.error!r})" if fast.error else ""))
    fast_gaps = {t: v[2] for t, v in fast_after.items() if v[2]}
    print(f"fast subscriber: {fast_total_after} messages on {len(fast_after)} topics, "
          f"{fast_total_after - fast_total_before} during the slow one's pause; longest "
          f"silence {fast.max_silence_s:.3f} s", flush=True)
    check(not fast_gaps, f"the fast subscriber sees no gap on any topic ({fast_gaps or 'none'})")
    check(fast_total_after - fast_total_before > 1000,
          "the fast subscriber kept receiving while the slow one paused")

    during = status.between(t0, t1)
    beats = status.between(t0)  # the pause and the reading after it
    out = [b["counters"]["messages_out"] for b in during]
    check(len(during) >= 6, f"bookbuilder heartbeats kept coming ({len(during)} in the "
          f"{t1 - t0:.0f} s pause)")
    # Not "with every heartbeat": on a machine busy enough, the sim and the collectors can go
    # a whole second without sending anything to publish.
    steps = [a - b for b, a in zip(out, out[1:])]
    check(min(steps) >= 0 and out[-1] - out[0] > 1000,
          f"messages_out keeps growing ({out[0]} .. {out[-1]}, steps {steps})")
    check(all(b["counters"]["books"]["synced"] == books and
              b["counters"]["books"]["syncing"] == 0 and
              b["counters"]["books"]["resyncing"] == 0 for b in beats),
          f"all {books} books stay synced in every heartbeat")
    resyncs = [sum(b["counters"]["resyncs"].values()) for b in beats]
    check(resyncs[0] == resyncs[-1], f"no resync while the slow subscriber lags ({resyncs[-1]})")
    check(all(b["counters"]["data_send_failures"] == 0 for b in beats),
          "no publish failed (a full subscriber queue drops silently, as it should)")
    slow.close()
    status.stop()
    check(status.error is None, "the status listener ran without error" +
          (f" (it failed: {status.error!r})" if status.error else ""))


# ---- main --------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=("clone", "slow"))
    parser.add_argument("--sim", required=True)
    parser.add_argument("--collector", required=True)
    parser.add_argument("--bookbuilder", required=True)
    parser.add_argument("--source", required=True, help="the source tree")
    # The bookbuilder publishes in bursts: the depth timer sends one depth<N> message per book
    # at once (100 here), a batch of frames sends its book and bbo messages back to back. The
    # smallest bookbuilder.data_hwm allowed, 10000, holds a few hundred ms of this pipeline for a
    # subscriber that keeps up on average; the paused one falls far beyond it.
    parser.add_argument("--data-hwm", type=int, default=10000, help="slow: bookbuilder.data_hwm")
    parser.add_argument("--usdm-depth-speed-ms", type=int, default=100,
                        help="slow: USD-M diff-depth speed (0: every update, the most messages)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    for key in ("sim", "collector", "bookbuilder", "source"):
        setattr(args, key, os.path.abspath(getattr(args, key)))  # programs run in a temp dir

    workdir = tempfile.mkdtemp(prefix=f"bookcast-py-{args.scenario}-")
    ctx = zmq.Context()
    pipe = None
    ok = False
    try:
        pipe = Pipeline(args, workdir)
        {"clone": scenario_clone, "slow": scenario_slow}[args.scenario](ctx, pipe)
        ok = True
    except CheckFailed as e:
        print(f"FAIL: {e}", flush=True)
    except Exception:
        traceback.print_exc()
    finally:
        if pipe:
            pipe.stop_all()
            if "bookbuilder" in pipe.exit_codes and pipe.exit_codes["bookbuilder"] != 0:
                print(f"FAIL: the bookbuilder exited {pipe.exit_codes['bookbuilder']}, not 0")
                ok = False
            if not ok:
                pipe.print_logs()
        ctx.destroy(linger=0)
    print(f"{args.scenario}: {'PASS' if ok else 'FAIL'} in {time.monotonic() - STARTED:.1f} s",
          flush=True)
    if ok and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"files kept in {workdir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
