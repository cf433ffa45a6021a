/*
 * bookcast-collector — one market's traffic with the exchange, every frame delivered.
 *
 *   bookcast-collector --market spot|usdm|coinm [--config FILE] [--set key=value]…
 *
 * The data path: exchange WebSocket (pool.c, conn.c) → envelope (common/envelope) → outbox
 * (outbox.c) → PUSH to the bookbuilder; REST snapshots asked for on the control bus
 * (control.c) → rest.c → the same envelope and outbox. One thread runs it all in the
 * libwebsockets loop; a 2 ms pump moves frames from the outbox into ZeroMQ without ever
 * blocking, reads the control socket, sends the status heartbeat and notices signals.
 * docs/collector.md describes the process for its operators.
 */
#include "cli.h"
#include "bus.h"
#include "config.h"
#include "control.h"
#include "envelope.h"
#include "exinfo.h"
#include "heartbeat.h"
#include "log.h"
#include "net.h"
#include "now.h"
#include "outbox.h"
#include "plan.h"
#include "pool.h"
#include "rest.h"
#include "signals.h"
#include "weight.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define PROGRAM "bookcast-collector"
#define PUMP_INTERVAL_MS 5
#define PUSH_HWM 10000        /* ZeroMQ's own queue; the outbox is the real bound */
#define EXINFO_RETRY_MS 5000  /* exchangeInfo failed at start: try again after */

typedef struct {
    char **items;
    size_t count, cap;
} names_t;

typedef struct {
    config_t *cfg;
    market_t market;
    char mkey[32]; /* "markets.spot" */
    char instance[64];
    uint64_t instance_id;
    net_t *net;
    pool_t *pool;
    rest_t *rest;
    outbox_t *outbox;
    zsock_t *push;
    zsock_t *control;
    heartbeat_t *heartbeat;
    plan_channels_t channels;
    names_t configured;   /* streams from the configuration */
    bool symbols_ready;   /* the symbol list was checked against exchangeInfo */
    uint64_t conn0_seq;   /* snapshots, snapshot errors, overflows */
    unsigned char *scratch;
    size_t scratch_cap;
    net_timer_t pump_timer;
    net_timer_t exinfo_timer;
    bool stopping;
    int64_t stop_deadline_ms;
    /* counters */
    uint64_t frames_queued, control_messages, control_errors, snapshot_requests;
    uint64_t snapshot_answers, snapshot_errors, overflow_frames, encode_errors;
    uint64_t unknown_symbols, reloads, reload_errors;
} collector_t;

/* ---- small helpers ------------------------------------------------------------------------ */

static int names_add(names_t *n, const char *s)
{
    for (size_t i = 0; i < n->count; i++)
        if (strcmp(n->items[i], s) == 0)
            return 0;
    if (n->count == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 64;
        char **grown = realloc(n->items, cap * sizeof *grown);
        if (!grown)
            return -1;
        n->items = grown;
        n->cap = cap;
    }
    char *copy = strdup(s);
    if (!copy)
        return -1;
    n->items[n->count++] = copy;
    return 0;
}

static bool names_has(const names_t *n, const char *s)
{
    for (size_t i = 0; i < n->count; i++)
        if (strcmp(n->items[i], s) == 0)
            return true;
    return false;
}

static void names_clear(names_t *n)
{
    for (size_t i = 0; i < n->count; i++)
        free(n->items[i]);
    free(n->items);
    memset(n, 0, sizeof *n);
}

static const char *key(collector_t *c, const char *suffix)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "%s.%s", c->mkey, suffix);
    return buf;
}

static void read_channels(collector_t *c, const config_t *cfg, plan_channels_t *ch)
{
    memset(ch, 0, sizeof *ch);
    ch->depth = config_bool(cfg, key(c, "channels.depth"));
    ch->depth_speed_ms = (unsigned)config_int(cfg, key(c, "channels.depth_speed_ms"));
    ch->trade = config_bool(cfg, key(c, "channels.trade"));
    ch->agg_trade = config_bool(cfg, key(c, "channels.agg_trade"));
    ch->book_ticker = config_bool(cfg, key(c, "channels.book_ticker"));
    ch->depth_n = (unsigned)config_int(cfg, key(c, "channels.depth_n"));
    ch->depth_n_speed_ms = (unsigned)config_int(cfg, key(c, "channels.depth_n_speed_ms"));
    ch->mark_price = config_bool(cfg, key(c, "channels.mark_price"));
    size_t n = config_list_size(cfg, key(c, "channels.kline_intervals"));
    for (size_t i = 0; i < n && i < PLAN_KLINES_MAX; i++)
        snprintf(ch->klines[ch->kline_count++], sizeof ch->klines[0], "%s",
                 config_list_item(cfg, key(c, "channels.kline_intervals"), i));
}

/* The streams of `symbols` under `channels`, added to `out`. */
static int streams_of(collector_t *c, const plan_channels_t *ch, const char *const *symbols,
                      size_t count, names_t *out)
{
    char streams[PLAN_STREAMS_PER_SYMBOL][PLAN_STREAM_MAX];
    for (size_t i = 0; i < count; i++) {
        size_t n = plan_symbol_streams(c->market, symbols[i], ch, streams,
                                       PLAN_STREAMS_PER_SYMBOL);
        for (size_t k = 0; k < n; k++)
            if (names_add(out, streams[k]) != 0)
                return -1;
    }
    return 0;
}

/* ---- frames to the bookbuilder ------------------------------------------------------------ */

static unsigned char *scratch(collector_t *c, size_t need)
{
    if (need > c->scratch_cap) {
        unsigned char *grown = realloc(c->scratch, need);
        if (!grown)
            return NULL;
        c->scratch = grown;
        c->scratch_cap = need;
    }
    return c->scratch;
}

/* Encodes one frame and queues it: data frames may be dropped when the queue is full (and are
   then reported), the others never are. */
static void queue_frame(collector_t *c, const envelope_header_t *h, const void *payload,
                        size_t len, const char *stream)
{
    size_t size = envelope_encoded_size(h, len);
    unsigned char *buf = size ? scratch(c, size) : NULL;
    char err[160];
    size_t n = buf ? envelope_encode(h, payload, len, buf, size, err, sizeof err) : 0;
    if (n == 0) {
        c->encode_errors++;
        log_error("%s: cannot encode a %s frame of %zu bytes: %s", market_name(c->market),
                  envelope_kind_name(h->kind), len, buf ? err : "too large or out of memory");
        if (h->kind == ENVELOPE_WS_TEXT)
            outbox_note_loss(c->outbox, &stream, stream ? 1 : 0);
        return;
    }
    /* Queued, never sent from here: the pump hands the socket a batch at a time, which wakes
       ZeroMQ's I/O thread once per batch instead of once per frame (measured: per-frame sends
       cost more CPU per frame at every rate, bench/collector_bench.c). */
    int rc = h->kind == ENVELOPE_WS_TEXT ? outbox_push(c->outbox, buf, n, stream)
                                         : outbox_push_always(c->outbox, buf, n);
    if (rc == 0)
        c->frames_queued++;
}

static void header_for(collector_t *c, envelope_header_t *h, envelope_kind_t kind,
                       uint32_t conn_id, uint64_t seq, int64_t recv_ns)
{
    envelope_header_init(h, kind, c->market);
    h->instance_id = c->instance_id;
    h->conn_id = conn_id;
    h->seq = seq;
    h->recv_ts_ns = recv_ns > 0 ? recv_ns : now_realtime_ns();
}

static void queue_control_frame(collector_t *c, envelope_header_t *h,
                                const envelope_control_t *ctl)
{
    char err[160];
    char *json = envelope_control_format(h->kind, ctl, err, sizeof err);
    if (!json) {
        c->encode_errors++;
        log_error("%s: cannot write a %s payload: %s", market_name(c->market),
                  envelope_kind_name(h->kind), err);
        return;
    }
    queue_frame(c, h, json, strlen(json), NULL);
    free(json);
}

static void on_pool_event(void *arg, const pool_event_t *ev)
{
    collector_t *c = arg;
    envelope_header_t h;
    header_for(c, &h, ev->kind, ev->conn_id, ev->seq, ev->recv_ns);
    if (ev->kind == ENVELOPE_WS_TEXT) {
        if (ev->overlap)
            h.flags |= ENVELOPE_FLAG_OVERLAP;
        queue_frame(c, &h, ev->payload, ev->len, ev->stream);
        return;
    }
    envelope_control_t ctl = {
        .url = ev->kind == ENVELOPE_CONN_UP ? (char *)ev->url : NULL,
        .streams = (char **)ev->streams,
        .stream_count = ev->stream_count,
        .reason = ev->kind == ENVELOPE_CONN_DOWN ? (char *)ev->reason : NULL,
    };
    queue_control_frame(c, &h, &ctl);
}

static void on_pool_loss(void *arg, const char *const *streams, size_t count)
{
    collector_t *c = arg;
    outbox_note_loss(c->outbox, streams, count);
}

static void on_snapshot(void *arg, const rest_result_t *r)
{
    collector_t *c = arg;
    bool ok = r->http_status >= 200 && r->http_status < 300;
    envelope_header_t h;
    header_for(c, &h, ok ? ENVELOPE_SNAPSHOT : ENVELOPE_SNAPSHOT_ERROR, ENVELOPE_CONN_NONE,
               ++c->conn0_seq, r->recv_ts_ns);
    snprintf(h.symbol, sizeof h.symbol, "%s", r->symbol);
    h.request_id = r->request_id;
    h.http_status = (uint16_t)(r->http_status >= 100 && r->http_status <= 599 ? r->http_status
                                                                              : 0);
    const char *body = r->body;
    size_t len = r->body_len;
    if (!ok && h.http_status == 0 && len == 0) {
        body = "no response";
        len = strlen(body);
    }
    if (ok)
        c->snapshot_answers++;
    else
        c->snapshot_errors++;
    queue_frame(c, &h, body, len, NULL);
}

static int push_send(void *arg, const void *data, size_t len)
{
    collector_t *c = arg;
    void *raw = zsock_resolve(c->push);
    if (zmq_send(raw, data, len, ZMQ_DONTWAIT) >= 0)
        return 0;
    if (errno == EAGAIN)
        return 1;
    if (errno == EINTR)
        return 1;
    log_error("%s: sending a frame to the bookbuilder failed: %s", market_name(c->market),
              zmq_strerror(errno));
    return -1;
}

/* Sends what the socket takes; reports losses with an OVERFLOW once there is room again. */
static void flush_outbox(collector_t *c)
{
    outbox_flush(c->outbox, push_send, c);
    if (!outbox_losses_pending(c->outbox))
        return;
    envelope_control_t ctl = {0};
    outbox_take_losses(c->outbox, &ctl.streams, &ctl.stream_count, &ctl.frames_dropped);
    log_warn("%s: the queue to the bookbuilder overflowed: %" PRIu64 " frames of %zu streams "
             "dropped; sending OVERFLOW",
             market_name(c->market), ctl.frames_dropped, ctl.stream_count);
    envelope_header_t h;
    header_for(c, &h, ENVELOPE_OVERFLOW, ENVELOPE_CONN_NONE, ++c->conn0_seq, 0);
    queue_control_frame(c, &h, &ctl);
    c->overflow_frames++;
    outbox_free_streams(ctl.streams, ctl.stream_count);
    outbox_flush(c->outbox, push_send, c);
}

/* ---- control ------------------------------------------------------------------------------ */

static void apply_subscription(collector_t *c, const control_msg_t *msg)
{
    names_t streams = {0};
    streams_of(c, &c->channels, (const char *const *)msg->symbols, msg->symbol_count, &streams);
    for (size_t i = 0; i < msg->stream_count; i++)
        names_add(&streams, msg->streams[i]);
    if (msg->kind == CONTROL_SUBSCRIBE)
        pool_add_streams(c->pool, (const char *const *)streams.items, streams.count);
    else
        pool_remove_streams(c->pool, (const char *const *)streams.items, streams.count);
    log_info("%s: control %s of %zu streams", market_name(c->market),
             msg->kind == CONTROL_SUBSCRIBE ? "subscribe" : "unsubscribe", streams.count);
    names_clear(&streams);
}

static void read_control(collector_t *c)
{
    for (int budget = 0; budget < 1000; budget++) {
        zmsg_t *msg = zmsg_recv_nowait(c->control);
        if (!msg)
            return;
        c->control_messages++;
        zframe_t *topic = zmsg_first(msg), *body = zmsg_next(msg);
        char err[200];
        control_msg_t cm;
        int rc = -1;
        if (!topic || !body) {
            snprintf(err, sizeof err, "a control message needs a topic and a body frame");
        } else {
            char t[64];
            size_t tn = zframe_size(topic) < sizeof t - 1 ? zframe_size(topic) : sizeof t - 1;
            memcpy(t, zframe_data(topic), tn);
            t[tn] = '\0';
            rc = control_parse(c->market, t, zframe_data(body), zframe_size(body), &cm, err,
                               sizeof err);
        }
        if (rc < 0) {
            c->control_errors++;
            log_warn("%s: control message refused: %s", market_name(c->market), err);
        } else if (rc == 0) {
            if (cm.kind == CONTROL_SNAPSHOT) {
                c->snapshot_requests++;
                rest_request_depth(c->rest, cm.symbol, cm.limit, cm.request_id);
            } else {
                apply_subscription(c, &cm);
            }
            control_msg_clear(&cm);
        }
        zmsg_destroy(&msg);
    }
}

/* ---- symbols and reload ------------------------------------------------------------------- */

/* The configured symbols of the market, checked against the exchange's trading symbols when
   known (trading may be NULL): unknown ones are reported and left out. */
static int configured_streams(collector_t *c, const config_t *cfg, const names_t *trading,
                              names_t *out)
{
    plan_channels_t ch;
    read_channels(c, cfg, &ch);
    const char *skey = key(c, "symbols");
    if (config_symbols_all(cfg, skey)) {
        if (!trading)
            return -1;
        return streams_of(c, &ch, (const char *const *)trading->items, trading->count, out);
    }
    size_t n = config_list_size(cfg, skey);
    for (size_t i = 0; i < n; i++) {
        const char *symbol = config_list_item(cfg, skey, i);
        if (trading && !names_has(trading, symbol)) {
            c->unknown_symbols++;
            log_error("%s: symbol %s is not a trading symbol of the exchange (exchangeInfo); it "
                      "is not subscribed", market_name(c->market), symbol);
            continue;
        }
        if (streams_of(c, &ch, &symbol, 1, out) != 0)
            return -1;
    }
    return 0;
}

/* Makes the pool hold exactly `next` of the configured streams (others stay untouched). */
static void apply_configured(collector_t *c, names_t *next)
{
    names_t gone = {0};
    for (size_t i = 0; i < c->configured.count; i++)
        if (!names_has(next, c->configured.items[i]))
            names_add(&gone, c->configured.items[i]);
    pool_remove_streams(c->pool, (const char *const *)gone.items, gone.count);
    pool_add_streams(c->pool, (const char *const *)next->items, next->count);
    if (gone.count || next->count != c->configured.count)
        log_info("%s: %zu configured streams (%zu removed)", market_name(c->market), next->count,
                 gone.count);
    names_clear(&gone);
    names_clear(&c->configured);
    c->configured = *next;
    memset(next, 0, sizeof *next);
}

static names_t trading_symbols; /* from the last exchangeInfo */
static bool trading_known;

static void exinfo_retry(net_timer_t *timer);

static void on_exchange_info(void *arg, int status, const char *body, size_t len)
{
    collector_t *c = arg;
    if (c->stopping)
        return;
    char err[200] = "";
    exinfo_t info;
    if (status == 200 && exinfo_parse(c->market, body, len, &info, err, sizeof err) == 0) {
        names_clear(&trading_symbols);
        for (size_t i = 0; i < info.symbol_count; i++)
            names_add(&trading_symbols, info.symbols[i]);
        trading_known = true;
        log_info("%s: exchangeInfo lists %zu trading symbols (%zu not trading, %zu with names a "
                 "frame cannot carry)",
                 market_name(c->market), info.symbol_count, info.not_trading,
                 info.unusable_names);
        exinfo_free(&info);
    } else {
        log_warn("%s: exchangeInfo failed (status %d%s%s); symbols cannot be checked, retrying "
                 "in %d ms", market_name(c->market), status, err[0] ? ": " : "", err,
                 EXINFO_RETRY_MS);
        net_timer_schedule(c->net, &c->exinfo_timer, exinfo_retry, EXINFO_RETRY_MS);
        if (c->symbols_ready || config_symbols_all(c->cfg, key(c, "symbols")))
            return;
        /* A list of symbols can start unchecked; "ALL" has to wait for the list. */
    }
    names_t next = {0};
    if (configured_streams(c, c->cfg, trading_known ? &trading_symbols : NULL, &next) == 0) {
        apply_configured(c, &next);
        c->symbols_ready = true;
    }
    names_clear(&next);
}

static void exinfo_retry(net_timer_t *timer)
{
    collector_t *c = lws_container_of(timer, collector_t, exinfo_timer);
    rest_request_exchange_info(c->rest, on_exchange_info, c);
}

static void reload(collector_t *c)
{
    char err[1024];
    config_t *next_cfg = cli_reload(err, sizeof err);
    if (!next_cfg) {
        c->reload_errors++;
        log_error("%s: SIGHUP: the configuration is invalid, keeping the running one: %s",
                  market_name(c->market), err);
        return;
    }
    names_t next = {0};
    if (configured_streams(c, next_cfg, trading_known ? &trading_symbols : NULL, &next) != 0) {
        c->reload_errors++;
        log_error("%s: SIGHUP: symbols \"ALL\" need exchangeInfo, which is not known yet",
                  market_name(c->market));
        config_destroy(&next_cfg);
        names_clear(&next);
        return;
    }
    read_channels(c, next_cfg, &c->channels);
    apply_configured(c, &next);
    config_destroy(&c->cfg);
    c->cfg = next_cfg;
    c->reloads++;
    log_info("%s: SIGHUP: configuration reloaded", market_name(c->market));
}

/* ---- status ------------------------------------------------------------------------------- */

static void fill_status(cJSON *counters, void *arg)
{
    collector_t *c = arg;
    if (!c->pool || !c->outbox)
        return;
    char id[24];
    snprintf(id, sizeof id, "%016" PRIx64, c->instance_id);
    cJSON_AddStringToObject(counters, "market", market_name(c->market));
    cJSON_AddStringToObject(counters, "instance_id", id);
    pool_stats_t ps;
    pool_stats(c->pool, &ps);
    cJSON_AddNumberToObject(counters, "streams", (double)ps.streams);
    cJSON_AddNumberToObject(counters, "connections", (double)ps.slots);
    cJSON_AddNumberToObject(counters, "connections_running", (double)ps.running);
    cJSON_AddNumberToObject(counters, "connections_reconnecting", (double)ps.reconnecting);
    cJSON_AddNumberToObject(counters, "connections_stale", (double)ps.stale);
    cJSON_AddNumberToObject(counters, "connections_failed", (double)ps.failed);
    cJSON_AddNumberToObject(counters, "ws_frames", (double)ps.frames);
    cJSON_AddNumberToObject(counters, "ws_bytes", (double)ps.bytes);
    cJSON_AddNumberToObject(counters, "reconnects", (double)ps.reconnects);
    cJSON_AddNumberToObject(counters, "connect_attempts", (double)ps.connect_attempts);
    cJSON_AddNumberToObject(counters, "connect_attempts_deferred", (double)ps.attempts_deferred);
    cJSON_AddNumberToObject(counters, "rotations", (double)ps.rotations);
    cJSON_AddNumberToObject(counters, "queue_frames", (double)outbox_frames(c->outbox));
    cJSON_AddNumberToObject(counters, "queue_bytes", (double)outbox_bytes(c->outbox));
    cJSON_AddNumberToObject(counters, "frames_queued", (double)c->frames_queued);
    cJSON_AddNumberToObject(counters, "frames_sent", (double)outbox_sent(c->outbox));
    cJSON_AddNumberToObject(counters, "frames_dropped", (double)outbox_dropped(c->outbox));
    cJSON_AddNumberToObject(counters, "overflow_frames", (double)c->overflow_frames);
    cJSON_AddNumberToObject(counters, "encode_errors", (double)c->encode_errors);
    cJSON_AddNumberToObject(counters, "control_messages", (double)c->control_messages);
    cJSON_AddNumberToObject(counters, "control_errors", (double)c->control_errors);
    cJSON_AddNumberToObject(counters, "snapshot_requests", (double)c->snapshot_requests);
    cJSON_AddNumberToObject(counters, "snapshot_answers", (double)c->snapshot_answers);
    cJSON_AddNumberToObject(counters, "snapshot_errors", (double)c->snapshot_errors);
    cJSON_AddNumberToObject(counters, "unknown_symbols", (double)c->unknown_symbols);
    cJSON_AddNumberToObject(counters, "reloads", (double)c->reloads);
    cJSON_AddNumberToObject(counters, "reload_errors", (double)c->reload_errors);
    rest_stats_t rs;
    if (c->rest)
        rest_stats(c->rest, &rs);
    cJSON *rest = c->rest ? cJSON_AddObjectToObject(counters, "rest") : NULL;
    if (rest) {
        cJSON_AddNumberToObject(rest, "queued", (double)rs.queued);
        cJSON_AddNumberToObject(rest, "in_flight", (double)rs.in_flight);
        cJSON_AddNumberToObject(rest, "sent", (double)rs.sent);
        cJSON_AddNumberToObject(rest, "answered_2xx", (double)rs.answered_2xx);
        cJSON_AddNumberToObject(rest, "answered_4xx", (double)rs.answered_4xx);
        cJSON_AddNumberToObject(rest, "answered_5xx", (double)rs.answered_5xx);
        cJSON_AddNumberToObject(rest, "failed", (double)rs.failed);
        cJSON_AddNumberToObject(rest, "timeouts", (double)rs.timeouts);
        cJSON_AddNumberToObject(rest, "weight_used", rs.weight_used);
        cJSON_AddNumberToObject(rest, "weight_budget", rs.weight_budget);
        cJSON_AddNumberToObject(rest, "throttled_waits", (double)rs.throttled_waits);
        cJSON_AddNumberToObject(rest, "rate_limited", (double)rs.rate_limited);
        cJSON_AddNumberToObject(rest, "bans", (double)rs.bans);
        cJSON_AddBoolToObject(rest, "banned", rs.banned);
        cJSON_AddNumberToObject(rest, "blocked_until_ms", (double)rs.blocked_until_ms);
    }
    cJSON *conns = cJSON_AddArrayToObject(counters, "connection_list");
    if (conns)
        pool_status(c->pool, conns);
}

/* ---- the pump ----------------------------------------------------------------------------- */

static void begin_stop(collector_t *c)
{
    c->stopping = true;
    c->stop_deadline_ms = now_monotonic_ms() + config_int(c->cfg, "collector.shutdown_flush_ms");
    log_info("%s: stopping: closing connections, flushing %zu queued frames",
             market_name(c->market), outbox_frames(c->outbox));
    pool_stop(c->pool);
}

static void pump(net_timer_t *timer)
{
    collector_t *c = lws_container_of(timer, collector_t, pump_timer);
    int64_t now = now_monotonic_ms();
    if (!c->stopping && signals_stop_requested())
        begin_stop(c);
    if (!c->stopping && signals_take_reload())
        reload(c);
    if (!c->stopping)
        read_control(c);
    flush_outbox(c);
    heartbeat_tick(c->heartbeat, now);
    if (c->stopping &&
        ((pool_idle(c->pool) && outbox_frames(c->outbox) == 0) || now >= c->stop_deadline_ms)) {
        net_stop(c->net);
        return;
    }
    net_timer_schedule(c->net, &c->pump_timer, pump, PUMP_INTERVAL_MS);
}

/* ---- start and stop ----------------------------------------------------------------------- */

static uint64_t random_instance_id(void)
{
    uint64_t id = 0;
    while (id == 0) {
        if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id)
            id = (uint64_t)now_realtime_ns() ^ ((uint64_t)getpid() << 32);
    }
    return id;
}

static int start(collector_t *c)
{
    char err[256];
    c->instance_id = random_instance_id();
    c->net = net_new(config_str(c->cfg, key(c, "ca_file")));
    c->outbox = outbox_new((size_t)config_int(c->cfg, "collector.queue_max_bytes"));
    if (!c->net || !c->outbox)
        return -1;
    /* Frames wait in the outbox (our bound, our loss reports) while no bookbuilder is there. */
    bus_sender_t sender = {PUSH_HWM, (int)config_int(c->cfg, "collector.shutdown_flush_ms")};
    c->push = bus_connect_sender(ZMQ_PUSH, config_str(c->cfg, "bus.frames"), &sender, err,
                                 sizeof err);
    if (!c->push) {
        log_error("%s: frames socket: %s", market_name(c->market), err);
        return -1;
    }
    c->control = bus_connect(ZMQ_SUB, config_str(c->cfg, "bus.control"), err, sizeof err);
    if (!c->control) {
        log_error("%s: control socket: %s", market_name(c->market), err);
        return -1;
    }
    char tb[3][32];
    const char *const *topics = control_topics(c->market, tb);
    for (int i = 0; topics[i]; i++)
        zsock_set_subscribe(c->control, topics[i]);
    c->heartbeat = heartbeat_new(c->cfg, "collector", c->instance, fill_status, c, err, sizeof err);
    if (!c->heartbeat) {
        log_error("%s: status socket: %s", market_name(c->market), err);
        return -1;
    }
    weight_policy_t wp = {
        .limit_per_min = (unsigned)config_int(c->cfg, key(c, "rest_weight_limit")),
        .share_pct = (unsigned)config_int(c->cfg, key(c, "rest_weight_share_pct")),
    };
    c->rest = rest_new(c->net, c->market, config_str(c->cfg, key(c, "rest_url")), &wp,
                       on_snapshot, c);
    if (!c->rest) {
        log_error("%s: cannot use rest_url %s", market_name(c->market),
                  config_str(c->cfg, key(c, "rest_url")));
        return -1;
    }
    rest_set_timeout_ms(c->rest, config_int(c->cfg, "collector.snapshot_timeout_ms"));
    pool_options_t po = {
        .max_streams_per_conn = (size_t)config_int(c->cfg, "collector.max_streams_per_connection"),
        .stale_after_ms = config_int(c->cfg, "collector.stale_after_s") * 1000,
        .rotate_after_ms = config_int(c->cfg, "collector.rotate_after_s") * 1000,
        .backoff =
            {
                .base_ms = config_int(c->cfg, "collector.reconnect_base_ms"),
                .max_ms = config_int(c->cfg, "collector.reconnect_max_ms"),
                .jitter_pct = (uint32_t)config_int(c->cfg, "collector.reconnect_jitter_pct"),
                .max_attempts = (uint32_t)config_int(c->cfg, "collector.reconnect_max_attempts"),
            },
        .attempts_per_5min = (unsigned)config_int(c->cfg, "collector.connect_attempts_per_5min"),
    };
    pool_sink_t sink = {on_pool_event, on_pool_loss, c};
    c->pool = pool_new(c->net, c->market, config_str(c->cfg, key(c, "ws_url")), &po, &sink,
                       c->instance_id);
    if (!c->pool) {
        log_error("%s: ws_url %s is not a ws:// or wss:// URL", market_name(c->market),
                  config_str(c->cfg, key(c, "ws_url")));
        return -1;
    }
    read_channels(c, c->cfg, &c->channels);
    rest_request_exchange_info(c->rest, on_exchange_info, c);
    net_timer_schedule(c->net, &c->pump_timer, pump, PUMP_INTERVAL_MS);
    log_info("%s: collector %s started, instance %016" PRIx64 ", frames to %s",
             market_name(c->market), c->instance, c->instance_id,
             config_str(c->cfg, "bus.frames"));
    return 0;
}

static void finish(collector_t *c)
{
    rest_destroy(&c->rest); /* still-queued requests become SNAPSHOT_ERROR frames */
    if (c->outbox && c->push)
        outbox_flush(c->outbox, push_send, c);
    if (c->outbox && outbox_frames(c->outbox))
        log_warn("%s: %zu frames could not be handed to the bookbuilder before exit",
                 market_name(c->market), outbox_frames(c->outbox));
    if (c->heartbeat && c->pool)
        heartbeat_send(c->heartbeat, "stopped");
    heartbeat_destroy(&c->heartbeat);
    pool_destroy(&c->pool);
    net_destroy(&c->net);
    zsock_destroy(&c->control);
    zsock_destroy(&c->push); /* lingers up to shutdown_flush_ms for ZeroMQ's own queue */
    outbox_destroy(&c->outbox);
    names_clear(&c->configured);
    names_clear(&trading_symbols);
    free(c->scratch);
    config_destroy(&c->cfg);
}

int main(int argc, char **argv)
{
    const char *market_arg = NULL;
    const cli_option_t options[] = {
        {"market", "spot|usdm|coinm", "the market this collector serves (required)", &market_arg},
        {0},
    };
    const cli_spec_t spec = {PROGRAM,
                             "Holds one market's WebSocket connections to Binance, fetches "
                             "depth snapshots when asked, and pushes every frame to the "
                             "bookbuilder.",
                             options};
    collector_t c;
    memset(&c, 0, sizeof c);
    int rc = cli_start(&spec, argc, argv, &c.cfg);
    if (rc >= 0)
        return rc;
    if (!market_arg || market_parse(market_arg, &c.market) != 0) {
        fprintf(stderr, PROGRAM ": --market spot|usdm|coinm is required\n");
        config_destroy(&c.cfg);
        return CLI_EXIT_USAGE;
    }
    snprintf(c.mkey, sizeof c.mkey, "markets.%s", market_name(c.market));
    if (!config_bool(c.cfg, key(&c, "enabled"))) {
        fprintf(stderr, PROGRAM ": %s is disabled (%s.enabled is false)\n", market_arg, c.mkey);
        config_destroy(&c.cfg);
        return CLI_EXIT_USAGE;
    }
    const char *instance = config_str(c.cfg, "collector.instance");
    snprintf(c.instance, sizeof c.instance, "%s", *instance ? instance : market_name(c.market));
    cli_open_log(PROGRAM, c.cfg);
    zsys_handler_set(NULL);
    if (signals_install() != 0) {
        log_error("cannot install signal handlers: %s", strerror(errno));
        config_destroy(&c.cfg);
        return 1;
    }
    rc = start(&c) == 0 ? 0 : 1;
    if (rc == 0 && net_run(c.net) != 0)
        rc = 1;
    finish(&c);
    log_info("%s: collector stopped", market_name(c.market));
    log_close();
    return rc;
}
