/*
 * bookcast-bookbuilder — exact order books from the collectors' frames, on the data bus.
 *
 *   bookcast-bookbuilder [--config FILE] [--set key=value]…
 *   bookcast-bookbuilder --replay FRAMES [--out FILE] [--config FILE] [--set key=value]…
 *
 * The data path (builder.c): PULL frame → envelope → parse.c → sync.c/book.c → publish.c →
 * PUB. One thread does everything: it waits on the frames and snapshot sockets, drains frames in
 * batches without blocking, runs the builder's timers, answers the snapshot service and sends the
 * status heartbeat. Publishing never blocks: a subscriber that cannot keep up loses messages at
 * its own high-water mark (and sees seq gaps); nobody else is slowed.
 *
 * --replay runs a frame file through the same builder with the recording's clock and writes each
 * published message as one line "<topic> <json>" to --out (default stdout); no socket is opened.
 */
#include "builder.h"
#include "bus.h"
#include "cli.h"
#include "config.h"
#include "heartbeat.h"
#include "jbuf.h"
#include "log.h"
#include "now.h"
#include "replay.h"
#include "signals.h"
#include "snapshots.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define PROGRAM "bookcast-bookbuilder"
#define FRAMES_PER_BATCH 4096 /* frames drained before the timers and other sockets get a turn */
#define FRAMES_HWM 1000000    /* frames ZeroMQ may queue from the collectors */

typedef struct {
    config_t *cfg;
    builder_t *builder;
    zsock_t *frames;  /* PULL, bound: collectors connect */
    zsock_t *data;    /* PUB, bound: subscribers connect */
    zsock_t *control; /* XPUB, bound: collectors subscribe to snapshot requests */
    bool collector_listening[BUILDER_MARKETS]; /* a subscriber to snapshot.<market> exists */
    zsock_t *snapshot;                         /* ROUTER, bound: late joiners */
    heartbeat_t *heartbeat;
    jbuf_t answer;
    char **symbol_lists[BUILDER_MARKETS];
    uint64_t data_send_failures, control_send_failures, snapshot_requests_served;
    uint64_t snapshot_requests_unheard; /* no collector of the market was subscribed */
    uint64_t snapshot_bad_requests;
    latency_t window; /* latency since the last heartbeat */
} bookbuilder_t;

/* ---- configuration ------------------------------------------------------------------------ */

static int read_config(bookbuilder_t *bb, builder_config_t *bc)
{
    const config_t *cfg = bb->cfg;
    memset(bc, 0, sizeof *bc);
    for (int m = 0; m < BUILDER_MARKETS; m++) {
        const char *name = market_name((market_t)(m + 1));
        char key[64];
        snprintf(key, sizeof key, "markets.%s.enabled", name);
        builder_market_t *bm = &bc->markets[m];
        bm->enabled = config_bool(cfg, key);
        snprintf(key, sizeof key, "markets.%s.symbols", name);
        bm->all_symbols = config_symbols_all(cfg, key);
        size_t n = config_list_size(cfg, key);
        bb->symbol_lists[m] = calloc(n ? n : 1, sizeof(char *));
        if (!bb->symbol_lists[m])
            return -1;
        for (size_t i = 0; i < n; i++)
            bb->symbol_lists[m][i] = (char *)config_list_item(cfg, key, i);
        bm->symbols = bb->symbol_lists[m];
        bm->symbol_count = n;
    }
    bc->max_levels = (size_t)config_int(cfg, "bookbuilder.max_levels");
    bc->min_levels = (size_t)config_int(cfg, "bookbuilder.min_levels");
    bc->buffer_max_events = (size_t)config_int(cfg, "bookbuilder.buffer_max_events");
    bc->reorder_window_ms = config_int(cfg, "bookbuilder.reorder_window_ms");
    bc->reorder_max_events = (size_t)config_int(cfg, "bookbuilder.reorder_max_events");
    bc->depth_levels = (unsigned)config_int(cfg, "bookbuilder.depth_levels");
    bc->depth_interval_ms = config_int(cfg, "bookbuilder.depth_interval_ms");
    bc->live_klines = config_bool(cfg, "bookbuilder.live_klines");
    bc->raw_tap = config_bool(cfg, "bookbuilder.raw_tap");
    bc->bbo_check = config_bool(cfg, "bookbuilder.bbo_check");
    bc->snapshot_timeout_ms = config_int(cfg, "bookbuilder.snapshot_timeout_ms");
    bc->snapshot_retry_base_ms = config_int(cfg, "bookbuilder.snapshot_retry_base_ms");
    bc->snapshot_retry_max_ms = config_int(cfg, "bookbuilder.snapshot_retry_max_ms");
    bc->snapshot_inflight_max = (unsigned)config_int(cfg, "bookbuilder.snapshot_inflight_max");
    bc->max_books = (size_t)config_int(cfg, "bookbuilder.max_books");
    return 0;
}

/* ---- replay ------------------------------------------------------------------------------- */

static void replay_publish(void *arg, const char *topic, const char *body, size_t len)
{
    FILE *out = arg;
    fputs(topic, out);
    fputc(' ', out);
    fwrite(body, 1, len, out);
    fputc('\n', out);
}

static int run_replay(bookbuilder_t *bb, const char *path, const char *out_path)
{
    builder_config_t bc;
    if (read_config(bb, &bc) != 0)
        return 1;
    bc.raw_tap = false; /* the input is the raw data */
    FILE *out = stdout;
    if (out_path && strcmp(out_path, "-") != 0) {
        out = fopen(out_path, "w");
        if (!out) {
            log_error("--out %s: %s", out_path, strerror(errno));
            return 1;
        }
    }
    builder_io_t io = {.publish = replay_publish, .arg = out};
    bb->builder = builder_new(&bc, &io);
    if (!bb->builder) {
        log_error("out of memory");
        if (out != stdout)
            fclose(out);
        return 1;
    }
    replay_stats_t st;
    char err[256];
    int rc = replay_file(bb->builder, path, &st, err, sizeof err);
    if (rc != 0)
        log_error("replay %s: %s", path, err);
    const builder_counters_t *c = builder_counters(bb->builder);
    size_t states[3];
    builder_book_states(bb->builder, states);
    log_info("replay %s: %" PRIu64 " frames (%" PRIu64 " unreadable), %" PRIu64
             " messages out; books: %zu synced, %zu syncing, %zu resyncing",
             path, st.frames, st.bad_frames, c->messages_out, states[SYNC_SYNCED],
             states[SYNC_SYNCING], states[SYNC_RESYNCING]);
    if (fflush(out) != 0 || ferror(out)) {
        log_error("--out %s: %s", out_path ? out_path : "-", strerror(errno));
        rc = -1;
    }
    if (out != stdout)
        fclose(out);
    return rc == 0 ? 0 : 1;
}

/* ---- live: the builder's io --------------------------------------------------------------- */

static void live_publish(void *arg, const char *topic, const char *body, size_t len)
{
    bookbuilder_t *bb = arg;
    if (bus_send(bb->data, topic, body, len) != 0) {
        bb->data_send_failures++;
        log_warn("data bus: cannot send on %s: %s", topic, zmq_strerror(errno));
    }
}

static void live_publish_raw(void *arg, const char *topic, uint64_t seq, const void *frame,
                             size_t len)
{
    bookbuilder_t *bb = arg;
    char seqtext[24];
    int n = snprintf(seqtext, sizeof seqtext, "%" PRIu64, seq);
    void *s = zsock_resolve(bb->data);
    if (zmq_send(s, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(s, seqtext, (size_t)n, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(s, frame, len, ZMQ_DONTWAIT) < 0) {
        bb->data_send_failures++;
        log_warn("data bus: cannot send on %s: %s", topic, zmq_strerror(errno));
    }
}

static int live_request_snapshot(void *arg, market_t market, const char *symbol, unsigned limit,
                                 uint64_t request_id)
{
    bookbuilder_t *bb = arg;
    char topic[32], body[160];
    snprintf(topic, sizeof topic, "snapshot.%s", market_name(market));
    /* PUB drops what nobody subscribes to: a request sent before the market's collector is
       subscribed would be lost, and the book would wait a whole timeout for nothing. */
    if (!bb->collector_listening[market - 1]) {
        bb->snapshot_requests_unheard++;
        return -1;
    }
    int n =
        snprintf(body, sizeof body, "{\"symbol\":\"%s\",\"limit\":%u,\"request_id\":%" PRIu64 "}",
                 symbol, limit, request_id);
    if (bus_send(bb->control, topic, body, (size_t)n) != 0) {
        bb->control_send_failures++;
        return -1;
    }
    return 0;
}

static int64_t live_clock(void *arg)
{
    (void)arg;
    return now_realtime_ns();
}

/* ---- live: the heartbeat ------------------------------------------------------------------ */

static void add_u64(cJSON *o, const char *k, uint64_t v)
{
    cJSON_AddNumberToObject(o, k, (double)v);
}

static void fill_status(cJSON *counters, void *arg)
{
    bookbuilder_t *bb = arg;
    const builder_counters_t *c = builder_counters(bb->builder);
    size_t states[3];
    builder_book_states(bb->builder, states);
    cJSON *books = cJSON_AddObjectToObject(counters, "books");
    add_u64(books, "syncing", states[SYNC_SYNCING]);
    add_u64(books, "synced", states[SYNC_SYNCED]);
    add_u64(books, "resyncing", states[SYNC_RESYNCING]);
    cJSON *resyncs = cJSON_AddObjectToObject(counters, "resyncs");
    for (int r = 0; r < SYNC_REASON_COUNT; r++)
        if (r != SYNC_REASON_START)
            add_u64(resyncs, sync_reason_name((sync_reason_t)r), c->resyncs[r]);
    cJSON *bad = cJSON_AddObjectToObject(counters, "bad_input");
    for (int e = 1; e < PARSE_ERR_COUNT; e++)
        add_u64(bad, parse_err_name((parse_err_t)e), c->parse_errors[e]);
    add_u64(bad, "bad_envelope", c->frames_bad_envelope);
    add_u64(bad, "unknown_symbol", c->unknown_symbols);
    add_u64(counters, "frames_in", c->frames_in);
    add_u64(counters, "frame_gaps", c->frame_gaps);
    add_u64(counters, "frames_repeated", c->frames_repeated);
    add_u64(counters, "collector_restarts", c->collector_restarts);
    add_u64(counters, "messages_out", c->messages_out);
    add_u64(counters, "bytes_out", c->bytes_out);
    add_u64(counters, "raw_out", c->raw_out);
    add_u64(counters, "depth_applied", c->depth_applied);
    add_u64(counters, "depth_buffered", c->depth_buffered);
    add_u64(counters, "depth_held", c->depth_held);
    add_u64(counters, "depth_stale", c->depth_stale);
    add_u64(counters, "snapshot_requests", c->snapshot_requests);
    add_u64(counters, "snapshot_timeouts", c->snapshot_timeouts);
    add_u64(counters, "snapshot_errors", c->snapshot_errors);
    add_u64(counters, "snapshots_applied", c->snapshots_applied);
    add_u64(counters, "snapshots_too_old", c->snapshots_too_old);
    add_u64(counters, "trades", c->trades);
    add_u64(counters, "trade_duplicates", c->trade_duplicates);
    add_u64(counters, "klines", c->klines);
    add_u64(counters, "bbo_checks", c->bbo_checks);
    add_u64(counters, "bbo_mismatches", c->bbo_mismatches);
    add_u64(counters, "books_refused", c->books_refused);
    add_u64(counters, "data_send_failures", bb->data_send_failures);
    add_u64(counters, "control_send_failures", bb->control_send_failures);
    add_u64(counters, "snapshot_requests_unheard", bb->snapshot_requests_unheard);
    add_u64(counters, "snapshot_service_requests", bb->snapshot_requests_served);
    latency_t *lat = builder_latency(bb->builder);
    cJSON *l = cJSON_AddObjectToObject(counters, "latency_us");
    add_u64(l, "count", lat->total);
    add_u64(l, "p50", (uint64_t)latency_quantile(lat, 0.50) / 1000);
    add_u64(l, "p99", (uint64_t)latency_quantile(lat, 0.99) / 1000);
    add_u64(l, "p999", (uint64_t)latency_quantile(lat, 0.999) / 1000);
    add_u64(l, "max", (uint64_t)lat->max_ns / 1000);
    latency_reset(lat);
}

/* ---- live: the snapshot service ----------------------------------------------------------- */

/* One request: [identity][empty delimiter, from REQ clients][body]. The answer goes back with
   the same envelope. */
static void serve_snapshot_request(bookbuilder_t *bb)
{
    zmsg_t *msg = zmsg_recv(bb->snapshot);
    if (!msg)
        return;
    zframe_t *identity = zmsg_pop(msg);
    zframe_t *body = zmsg_last(msg);
    bool delimited = zmsg_size(msg) == 2 && zframe_size(zmsg_first(msg)) == 0;
    if (!identity || !body || (zmsg_size(msg) != 1 && !delimited)) {
        bb->snapshot_bad_requests++;
        log_warn("snapshot service: a request is one frame (REQ or DEALER); dropped");
        zframe_destroy(&identity);
        zmsg_destroy(&msg);
        return;
    }
    snapshots_answer(bb->builder, (const char *)zframe_data(body), zframe_size(body), &bb->answer);
    bb->snapshot_requests_served++;
    zmsg_t *reply = zmsg_new();
    zmsg_append(reply, &identity);
    if (delimited)
        zmsg_addmem(reply, "", 0);
    zmsg_addmem(reply, bb->answer.data, bb->answer.len);
    if (zmsg_send(&reply, bb->snapshot) != 0) {
        log_warn("snapshot service: cannot answer: %s", zmq_strerror(errno));
        zmsg_destroy(&reply);
    }
    zmsg_destroy(&msg);
}

/* ---- live: the collectors' subscriptions ------------------------------------------------ */

/* XPUB hands up the first subscription to a topic and the last unsubscription from it, as a
   message of one byte (1 or 0) and the topic: "snapshot.<market>" tells whether that market's
   collector listens. When one starts listening, the books waiting for it ask at once. */
static void read_control_subscriptions(bookbuilder_t *bb)
{
    zframe_t *f;
    while (zsock_events(bb->control) & ZMQ_POLLIN && (f = zframe_recv(bb->control)) != NULL) {
        const char *data = (const char *)zframe_data(f);
        size_t len = zframe_size(f);
        static const char prefix[] = "snapshot.";
        if (len > sizeof prefix && (data[0] == 0 || data[0] == 1) &&
            memcmp(data + 1, prefix, sizeof prefix - 1) == 0) {
            char name[16];
            size_t n = len - sizeof prefix;
            market_t m;
            if (n < sizeof name) {
                memcpy(name, data + sizeof prefix, n);
                name[n] = '\0';
                if (market_parse(name, &m) == 0) {
                    bool listening = data[0] == 1;
                    log_info("%s: the collector %s snapshot requests", name,
                             listening ? "listens for" : "no longer listens for");
                    bb->collector_listening[m - 1] = listening;
                    if (listening)
                        builder_retry_snapshots_now(bb->builder, m);
                }
            }
        }
        zframe_destroy(&f);
    }
}

/* ---- live: the loop ----------------------------------------------------------------------- */

static uint64_t random_run_id(void)
{
    uint64_t id = 0;
    while (id == 0)
        if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id)
            id = (uint64_t)now_realtime_ns() ^ ((uint64_t)getpid() << 32);
    return id;
}

static zsock_t *bind_or_log(int type, const char *key, const config_t *cfg)
{
    char err[256];
    zsock_t *s = bus_bind(type, config_str(cfg, key), err, sizeof err);
    if (!s)
        log_error("%s: %s", key, err);
    return s;
}

static int start_live(bookbuilder_t *bb)
{
    builder_config_t bc;
    if (read_config(bb, &bc) != 0)
        return -1;
    bc.run_id = random_run_id();
    bc.started_ns = now_realtime_ns();
    builder_io_t io = {
        .publish = live_publish,
        .publish_raw = live_publish_raw,
        .request_snapshot = live_request_snapshot,
        .clock_ns = live_clock,
        .arg = bb,
    };
    bb->builder = builder_new(&bc, &io);
    if (!bb->builder)
        return -1;
    bb->frames = bind_or_log(ZMQ_PULL, "bus.frames", bb->cfg);
    bb->data = bind_or_log(ZMQ_PUB, "bus.data", bb->cfg);
    bb->control = bind_or_log(ZMQ_XPUB, "bus.control", bb->cfg);
    bb->snapshot = bind_or_log(ZMQ_ROUTER, "bus.snapshot", bb->cfg);
    if (!bb->frames || !bb->data || !bb->control || !bb->snapshot)
        return -1;
    zsock_set_rcvhwm(bb->frames, FRAMES_HWM);
    zsock_set_sndhwm(bb->data, (int)config_int(bb->cfg, "bookbuilder.data_hwm"));
    zsock_set_linger(bb->data, 0);
    zsock_set_linger(bb->control, 0);
    zsock_set_linger(bb->snapshot, 0);
    char err[256];
    bb->heartbeat =
        heartbeat_new(bb->cfg, "bookbuilder", config_str(bb->cfg, "bookbuilder.instance"),
                      fill_status, bb, err, sizeof err);
    if (!bb->heartbeat) {
        log_error("status socket: %s", err);
        return -1;
    }
    log_info("bookbuilder started, run %016" PRIx64 "; frames on %s, data on %s, snapshots on %s",
             bc.run_id, config_str(bb->cfg, "bus.frames"), config_str(bb->cfg, "bus.data"),
             config_str(bb->cfg, "bus.snapshot"));
    return 0;
}

/* Takes every frame waiting, up to a batch. Returns how many. */
static size_t drain_frames(bookbuilder_t *bb)
{
    void *s = zsock_resolve(bb->frames);
    size_t n = 0;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (n < FRAMES_PER_BATCH) {
        if (zmq_msg_recv(&msg, s, ZMQ_DONTWAIT) < 0)
            break;
        /* A frame is one part; anything sent as several parts is not ours: drop all of it. */
        if (zmq_msg_more(&msg)) {
            do {
                if (zmq_msg_recv(&msg, s, ZMQ_DONTWAIT) < 0)
                    break;
            } while (zmq_msg_more(&msg));
            log_warn("frames socket: a multi-part message is not a frame; dropped");
            continue;
        }
        builder_on_frame(bb->builder, zmq_msg_data(&msg), zmq_msg_size(&msg), now_realtime_ns());
        n++;
    }
    zmq_msg_close(&msg);
    return n;
}

static int run_live(bookbuilder_t *bb)
{
    if (start_live(bb) != 0)
        return 1;
    zpoller_t *poller = zpoller_new(bb->frames, bb->snapshot, bb->control, NULL);
    if (!poller)
        return 1;
    int64_t next_tick_ms = 0;
    bool backlog = false; /* the last drain stopped at a full batch: more frames are waiting */
    while (!signals_stop_requested()) {
        int64_t now_ms = now_monotonic_ms();
        if (now_ms >= next_tick_ms)
            next_tick_ms = now_ms + builder_tick(bb->builder, now_realtime_ns());
        int64_t hb_ms = heartbeat_tick(bb->heartbeat, now_ms);
        int64_t wait_ms = next_tick_ms - now_ms;
        if (hb_ms < wait_ms)
            wait_ms = hb_ms;
        if (wait_ms < 0)
            wait_ms = 0;
        zpoller_wait(poller, backlog ? 0 : (int)wait_ms);
        if (zpoller_terminated(poller))
            break;
        /* Every socket gets its turn in every round (each check costs one non-blocking call), so
           a flood of frames never starves the snapshot service, the collectors' subscriptions or
           the timers: frames are taken a batch at a time in between. */
        backlog = drain_frames(bb) == FRAMES_PER_BATCH;
        if (zsock_events(bb->control) & ZMQ_POLLIN)
            read_control_subscriptions(bb);
        while (zsock_events(bb->snapshot) & ZMQ_POLLIN)
            serve_snapshot_request(bb);
    }
    zpoller_destroy(&poller);
    log_info("stopping on %s",
             signals_stop_signal() ? strsignal(signals_stop_signal()) : "request");
    heartbeat_send(bb->heartbeat, "stopped");
    return 0;
}

static void finish(bookbuilder_t *bb)
{
    heartbeat_destroy(&bb->heartbeat);
    zsock_destroy(&bb->snapshot);
    zsock_destroy(&bb->control);
    zsock_destroy(&bb->data);
    zsock_destroy(&bb->frames);
    builder_destroy(&bb->builder);
    for (int m = 0; m < BUILDER_MARKETS; m++)
        free(bb->symbol_lists[m]);
    jbuf_free(&bb->answer);
    config_destroy(&bb->cfg);
}

int main(int argc, char **argv)
{
    const char *replay_arg = NULL, *out_arg = NULL;
    const cli_option_t options[] = {
        {"replay", "FRAMES", "run a frame file through the books instead of the live sockets",
         &replay_arg},
        {"out", "FILE", "with --replay: write \"<topic> <json>\" lines here (default stdout)",
         &out_arg},
        {0},
    };
    const cli_spec_t spec = {PROGRAM,
                             "Keeps exact order books from the collectors' frames and publishes "
                             "them, with trades, klines and book status, on the data bus.",
                             options};
    bookbuilder_t bb;
    memset(&bb, 0, sizeof bb);
    int rc = cli_start(&spec, argc, argv, &bb.cfg);
    if (rc >= 0)
        return rc;
    if (out_arg && !replay_arg) {
        fprintf(stderr, PROGRAM ": --out goes with --replay\n");
        config_destroy(&bb.cfg);
        return CLI_EXIT_USAGE;
    }
    cli_open_log(PROGRAM, bb.cfg);
    if (replay_arg) {
        rc = run_replay(&bb, replay_arg, out_arg);
    } else {
        zsys_handler_set(NULL);
        if (signals_install() != 0) {
            log_error("cannot install signal handlers: %s", strerror(errno));
            config_destroy(&bb.cfg);
            return 1;
        }
        rc = run_live(&bb);
    }
    finish(&bb);
    log_flush();
    return rc;
}
