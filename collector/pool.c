/*
 * pool.c — connection slots, reconnects, staleness and rotation (see pool.h).
 *
 * A slot's life: STARTING (first connect) → RUNNING (open) ⇄ RECONNECTING (waiting out the
 * backoff, or for the attempt limiter) or STALE (closed for silence, about to reconnect);
 * FAILED after max_attempts failures in a row; STOPPED once its streams are gone or the pool
 * stops. A once-a-second check looks for silence and age; everything else is driven by the
 * connections' events.
 *
 * Each physical connection gets a `link`: the slot it serves and its envelope sequence. The
 * link is the connection's event argument, so an event always knows its slot, even for a
 * replacement, and a late event of a connection the slot has let go of finds a link whose slot
 * is NULL and is dropped after its CONN_DOWN.
 *
 * The attempt limiter keeps the times of the market's connection attempts in the last five
 * minutes; a slot that may not connect now waits until the oldest attempt leaves the window.
 */
#include "pool.h"

#include "conn.h"
#include "log.h"
#include "now.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_INTERVAL_MS 1000
#define ATTEMPT_WINDOW_MS (5 * 60 * 1000)
#define ATTEMPTS_MAX 4096 /* ring size: the limit can never usefully exceed this */

typedef enum {
    SLOT_STARTING = 0,
    SLOT_RUNNING,
    SLOT_RECONNECTING,
    SLOT_STALE,
    SLOT_STOPPED,
    SLOT_FAILED,
} slot_state_t;

static const char *const state_names[] = {"starting", "running", "reconnecting",
                                          "stale",    "stopped", "failed"};

typedef enum {
    REASON_CONNECT_FAILED = 0,
    REASON_SERVER_CLOSED,
    REASON_LOST,
    REASON_STALE,
    REASON_ROTATION,
    REASON_SERVER_SHUTDOWN,
    REASON_COUNT
} reason_t;

static const char *const reason_names[REASON_COUNT] = {
    "connect_failed", "server_closed", "lost", "stale", "rotation", "server_shutdown"};

typedef struct slot_t slot_t;

typedef struct link_t link_t;
struct link_t {
    pool_t *pool;
    slot_t *slot; /* NULL once the slot let go of the connection */
    conn_t *conn;
    uint64_t seq;
    bool data_seen; /* a message that is not an answer to our requests */
    slot_t *retired_from; /* replaced by a rotation, still open: the slot it served */
    link_t *prev, *next;  /* every link of the pool, so none outlives it */
};

struct slot_t {
    pool_t *pool;
    plan_route_t route;
    slot_state_t state;
    char **streams;
    size_t stream_count, stream_cap;
    link_t *cur, *next; /* next: a replacement being rotated in */
    link_t *retiring;   /* the connection cur replaced, until its CONN_DOWN */
    backoff_t backoff;
    net_timer_t retry_timer;
    bool rotate_requested;
    reason_t last_reason;
    uint64_t reconnects[REASON_COUNT];
    uint64_t frames, bytes;
    int64_t last_frame_ms;
};

struct pool_t {
    net_t *net;
    market_t market;
    char ws_url[512];
    pool_options_t opt;
    pool_sink_t sink;
    uint64_t seed;
    slot_t **slots;
    size_t slot_count, slot_cap;
    uint32_t next_conn_id;
    bool stopping;
    net_timer_t check_timer;
    int64_t attempts[ATTEMPTS_MAX];
    size_t attempt_head, attempt_count;
    uint64_t connect_attempts, attempts_deferred, rotations;
    int64_t message_interval_ms; /* 0: the market's default; doubled after a rate close */
    link_t *links;
};

/* A close for sending too fast (Binance: 1008 "Too many requests") means our pace is above the
   exchange's limit: every later connection of the market sends at half the pace. */
#define RATE_CLOSE_TEXT "Too many requests"
#define MESSAGE_INTERVAL_MAX_MS 2000

static void slot_connect(slot_t *slot);

/* ---- the attempt limiter -------------------------------------------------------------------- */

/* 0 when an attempt may start now (and records it), else ms until one may. */
static int64_t attempt_wait_ms(pool_t *self, int64_t now)
{
    while (self->attempt_count &&
           self->attempts[self->attempt_head] <= now - ATTEMPT_WINDOW_MS) {
        self->attempt_head = (self->attempt_head + 1) % ATTEMPTS_MAX;
        self->attempt_count--;
    }
    unsigned limit = self->opt.attempts_per_5min;
    if (limit > ATTEMPTS_MAX)
        limit = ATTEMPTS_MAX;
    if (self->attempt_count >= limit)
        return self->attempts[self->attempt_head] + ATTEMPT_WINDOW_MS - now + 1;
    self->attempts[(self->attempt_head + self->attempt_count) % ATTEMPTS_MAX] = now;
    self->attempt_count++;
    return 0;
}

/* ---- events out --------------------------------------------------------------------------- */

static void emit(pool_t *self, const pool_event_t *ev)
{
    if (self->sink.on_event)
        self->sink.on_event(self->sink.arg, ev);
}

/* The "stream" of a combined message: {"stream":"<name>",... Binance writes it first. */
static const char *combined_stream(const char *payload, size_t len, char *buf, size_t buf_len)
{
    static const char prefix[] = "{\"stream\":\"";
    if (len < sizeof prefix || memcmp(payload, prefix, sizeof prefix - 1) != 0)
        return NULL;
    const char *start = payload + sizeof prefix - 1;
    const char *end = memchr(start, '"', len - (sizeof prefix - 1));
    if (!end || (size_t)(end - start) >= buf_len)
        return NULL;
    memcpy(buf, start, (size_t)(end - start));
    buf[end - start] = '\0';
    return buf;
}

static bool is_answer(const char *payload, size_t len)
{
    return len < 512 &&
           (strncmp(payload, "{\"result\"", 9) == 0 || strncmp(payload, "{\"error\"", 8) == 0);
}

static bool is_server_shutdown(const char *payload, size_t len)
{
    return len < 256 && memmem(payload, len, "\"serverShutdown\"", 16) != NULL;
}

/* ---- links -------------------------------------------------------------------------------- */

static void link_register(pool_t *pool, link_t *link)
{
    link->next = pool->links;
    link->prev = NULL;
    if (pool->links)
        pool->links->prev = link;
    pool->links = link;
}

static void link_free(link_t *link)
{
    pool_t *pool = link->pool;
    if (link->prev)
        link->prev->next = link->next;
    else
        pool->links = link->next;
    if (link->next)
        link->next->prev = link->prev;
    free(link);
}

/* ---- slots -------------------------------------------------------------------------------- */

static size_t slot_index(const pool_t *self, const slot_t *slot)
{
    for (size_t i = 0; i < self->slot_count; i++)
        if (self->slots[i] == slot)
            return i;
    return SIZE_MAX;
}

static void link_drop(link_t **link_p)
{
    link_t *link = *link_p;
    if (!link)
        return;
    *link_p = NULL;
    link->slot = NULL;
    /* The connection still reports its end to the link, which frees itself then. */
    if (link->conn)
        conn_close(link->conn, "released");
}

static void retry_due(net_timer_t *timer)
{
    slot_t *slot = lws_container_of(timer, slot_t, retry_timer);
    slot_connect(slot);
}

/* Schedules the slot's next connect after its backoff; FAILED when it has run out. */
static void slot_schedule_reconnect(slot_t *slot, const char *reason)
{
    pool_t *pool = slot->pool;
    if (pool->stopping || slot->state == SLOT_STOPPED)
        return;
    int64_t delay = backoff_next_ms(&slot->backoff);
    if (delay < 0) {
        slot->state = SLOT_FAILED;
        log_error("%s connection slot %zu (%s%zu streams): giving up after %u failed attempts in "
                  "a row (last: %s)",
                  market_name(pool->market), slot_index(pool, slot), plan_route_name(slot->route),
                  slot->stream_count, slot->backoff.policy.max_attempts, reason);
        return;
    }
    if (slot->state != SLOT_STALE)
        slot->state = SLOT_RECONNECTING;
    log_info("%s connection slot %zu: reconnecting in %lld ms (%s)", market_name(pool->market),
             slot_index(pool, slot), (long long)delay, reason);
    net_timer_schedule(pool->net, &slot->retry_timer, retry_due, delay);
}

static reason_t classify(const char *reason, bool was_up)
{
    if (!was_up)
        return REASON_CONNECT_FAILED;
    if (strncmp(reason, "server closed", 13) == 0)
        return REASON_SERVER_CLOSED;
    if (strncmp(reason, "stale", 5) == 0)
        return REASON_STALE;
    return REASON_LOST;
}

static void on_up(void *arg, conn_t *conn, int64_t recv_ns)
{
    link_t *link = arg;
    slot_t *slot = link->slot;
    pool_t *pool = link->pool;
    char url[600];
    snprintf(url, sizeof url, "%s%s", pool->ws_url, plan_route_path(pool->market,
                                                                   slot ? slot->route
                                                                        : PLAN_ROUTE_NONE));
    pool_event_t ev = {
        .kind = ENVELOPE_CONN_UP,
        .conn_id = conn_id(conn),
        .seq = ++link->seq,
        .recv_ns = recv_ns,
        .url = url,
        .streams = NULL,
        .stream_count = conn_stream_count(conn),
    };
    const char **names = malloc((ev.stream_count ? ev.stream_count : 1) * sizeof *names);
    for (size_t i = 0; names && i < ev.stream_count; i++)
        names[i] = conn_stream(conn, i);
    ev.streams = names;
    if (!names)
        ev.stream_count = 0;
    emit(pool, &ev);
    free(names);
    if (slot && link == slot->cur) {
        slot->state = SLOT_RUNNING;
        slot->last_frame_ms = now_monotonic_ms();
    }
    log_info("%s conn %u up: %s, %zu streams%s", market_name(pool->market), conn_id(conn), url,
             conn_stream_count(conn), slot && link == slot->next ? " (replacement)" : "");
}

/* The replacement has proved itself: close the old connection, the replacement takes over. */
static void slot_switch(slot_t *slot, const char *why)
{
    link_t *old = slot->cur;
    slot->cur = slot->next;
    slot->next = NULL;
    slot->rotate_requested = false;
    slot->pool->rotations++;
    slot->reconnects[slot->last_reason]++;
    log_info("%s conn %u replaces conn %u (%s)", market_name(slot->pool->market),
             conn_id(slot->cur->conn), old ? conn_id(old->conn) : 0, why);
    if (old) {
        char reason[80];
        snprintf(reason, sizeof reason, "rotation: replaced by connection %u",
                 conn_id(slot->cur->conn));
        old->slot = NULL;
        old->retired_from = slot;
        slot->retiring = old;
        conn_close(old->conn, reason);
    }
}

static void start_rotation(slot_t *slot, reason_t reason);

/* While a connection and its replacement are both open, either may deliver an event first, so
   the frames of both are marked: the bookbuilder drops whichever copy comes second. */
static bool overlapping(const link_t *link)
{
    const slot_t *slot = link->slot;
    if (link->retired_from)
        return true;
    if (!slot)
        return false;
    if (link == slot->next)
        return slot->cur != NULL;
    return link == slot->cur &&
           (slot->retiring != NULL || (slot->next && conn_is_up(slot->next->conn)));
}

static void on_text(void *arg, conn_t *conn, const char *payload, size_t len, int64_t recv_ns)
{
    link_t *link = arg;
    slot_t *slot = link->slot;
    pool_t *pool = link->pool;
    char stream_buf[PLAN_STREAM_MAX];
    pool_event_t ev = {
        .kind = ENVELOPE_WS_TEXT,
        .conn_id = conn_id(conn),
        .seq = ++link->seq,
        .overlap = overlapping(link),
        .recv_ns = recv_ns,
        .payload = payload,
        .len = len,
        .stream = combined_stream(payload, len, stream_buf, sizeof stream_buf),
    };
    emit(pool, &ev);
    if (!slot)
        return;
    slot->frames++;
    slot->bytes += len;
    slot->last_frame_ms = now_monotonic_ms();
    bool answer = is_answer(payload, len);
    if (!answer)
        link->data_seen = true;
    if (link == slot->cur) {
        if (!answer)
            backoff_reset(&slot->backoff);
        if (is_server_shutdown(payload, len)) {
            log_info("%s conn %u: serverShutdown: rotating now", market_name(pool->market),
                     conn_id(conn));
            start_rotation(slot, REASON_SERVER_SHUTDOWN);
        }
    } else if (link == slot->next && link->data_seen && conn_subscribed(conn)) {
        slot_switch(slot, reason_names[slot->last_reason]);
    }
}

static void on_oversized(void *arg, conn_t *conn, size_t len)
{
    link_t *link = arg;
    pool_t *pool = link->pool;
    (void)len;
    size_t n = conn_stream_count(conn);
    const char **names = malloc((n ? n : 1) * sizeof *names);
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        names[i] = conn_stream(conn, i);
    if (pool->sink.on_loss)
        pool->sink.on_loss(pool->sink.arg, names, n);
    free(names);
}

static void on_down(void *arg, conn_t *conn, bool was_up, const char *reason, int64_t recv_ns)
{
    link_t *link = arg;
    slot_t *slot = link->slot;
    pool_t *pool = link->pool;
    /* Streams that go on, on the replacement, lost nothing: the CONN_DOWN names none. */
    bool continued = link->retired_from ||
                     (slot && link == slot->cur && slot->next && conn_is_up(slot->next->conn));
    if (link->retired_from && link->retired_from->retiring == link)
        link->retired_from->retiring = NULL;
    if (was_up) {
        size_t n = continued ? 0 : conn_stream_count(conn);
        const char **names = malloc((n ? n : 1) * sizeof *names);
        for (size_t i = 0; names && i < n; i++)
            names[i] = conn_stream(conn, i);
        pool_event_t ev = {
            .kind = ENVELOPE_CONN_DOWN,
            .conn_id = conn_id(conn),
            .seq = ++link->seq,
            .recv_ns = recv_ns,
            .streams = names,
            .stream_count = names ? n : 0,
            .reason = reason,
        };
        emit(pool, &ev);
        free(names);
    }
    log_info("%s conn %u %s: %s", market_name(pool->market), conn_id(conn),
             was_up ? "down" : "failed to open", reason);
    if (strstr(reason, RATE_CLOSE_TEXT)) {
        int64_t slower = conn_message_interval_ms(conn) * 2;
        if (slower > MESSAGE_INTERVAL_MAX_MS)
            slower = MESSAGE_INTERVAL_MAX_MS;
        if (slower > pool->message_interval_ms) {
            pool->message_interval_ms = slower;
            log_warn("%s: closed for sending too fast; control messages now %lld ms apart",
                     market_name(pool->market), (long long)slower);
        }
    }
    conn_release(&link->conn);
    if (slot) {
        reason_t why = classify(reason, was_up);
        if (link == slot->cur) {
            slot->cur = NULL;
            if (slot->next && conn_is_up(slot->next->conn)) {
                /* The old one died during a rotation: the replacement takes over now. */
                slot->cur = slot->next;
                slot->next = NULL;
                slot->rotate_requested = false;
                slot->reconnects[why]++;
                pool->rotations++;
            } else {
                link_drop(&slot->next);
                slot->reconnects[why]++;
                slot->last_reason = why;
                slot_schedule_reconnect(slot, reason);
            }
        } else if (link == slot->next) {
            slot->next = NULL;
            log_warn("%s conn %u: the replacement failed (%s); the current connection stays",
                     market_name(pool->market), conn_id(conn), reason);
        }
    }
    link_free(link);
}

static const conn_events_t conn_events = {on_up, on_text, on_oversized, on_down};

/* Opens a connection for the slot's streams; NULL when it could not be created. */
static link_t *slot_open(slot_t *slot)
{
    pool_t *pool = slot->pool;
    net_url_t url;
    if (net_url_parse(pool->ws_url, plan_route_path(pool->market, slot->route), &url) != 0)
        return NULL;
    link_t *link = calloc(1, sizeof *link);
    if (!link)
        return NULL;
    link->pool = pool;
    link->slot = slot;
    link_register(pool, link);
    link->conn = conn_new(pool->net, pool->market, ++pool->next_conn_id, &url, &conn_events, link);
    if (link->conn && pool->message_interval_ms)
        conn_set_message_interval_ms(link->conn, pool->message_interval_ms);
    if (!link->conn ||
        conn_subscribe(link->conn, (const char *const *)slot->streams, slot->stream_count) != 0) {
        conn_release(&link->conn);
        link_free(link);
        return NULL;
    }
    pool->connect_attempts++;
    conn_start(link->conn); /* a start failure is reported as a down event from the loop */
    return link;
}

static void slot_connect(slot_t *slot)
{
    pool_t *pool = slot->pool;
    if (pool->stopping || slot->state == SLOT_STOPPED || slot->cur)
        return;
    int64_t wait = attempt_wait_ms(pool, now_monotonic_ms());
    if (wait > 0) {
        pool->attempts_deferred++;
        log_warn("%s: %u connection attempts in 5 minutes: the next waits %lld ms",
                 market_name(pool->market), pool->opt.attempts_per_5min, (long long)wait);
        net_timer_schedule(pool->net, &slot->retry_timer, retry_due, wait);
        return;
    }
    slot->cur = slot_open(slot);
    if (!slot->cur) {
        log_error("%s: cannot create a connection (out of memory or a bad ws_url %s)",
                  market_name(pool->market), pool->ws_url);
        slot_schedule_reconnect(slot, "cannot create a connection");
    }
}

static void start_rotation(slot_t *slot, reason_t reason)
{
    pool_t *pool = slot->pool;
    if (slot->next || !slot->cur || pool->stopping)
        return;
    if (attempt_wait_ms(pool, now_monotonic_ms()) > 0) {
        pool->attempts_deferred++;
        slot->rotate_requested = true; /* the check tries again */
        return;
    }
    slot->last_reason = reason;
    slot->rotate_requested = false;
    slot->next = slot_open(slot);
    if (slot->next)
        log_info("%s: rotating conn %u (%s): replacement conn %u opening",
                 market_name(pool->market), conn_id(slot->cur->conn), reason_names[reason],
                 conn_id(slot->next->conn));
}

static slot_t *slot_new(pool_t *self, plan_route_t route)
{
    if (self->slot_count == self->slot_cap) {
        size_t cap = self->slot_cap ? self->slot_cap * 2 : 4;
        slot_t **grown = realloc(self->slots, cap * sizeof *grown);
        if (!grown)
            return NULL;
        self->slots = grown;
        self->slot_cap = cap;
    }
    slot_t *slot = calloc(1, sizeof *slot);
    if (!slot)
        return NULL;
    slot->pool = self;
    slot->route = route;
    slot->state = SLOT_STARTING;
    backoff_init(&slot->backoff, &self->opt.backoff, self->seed + self->slot_count * 7919);
    self->slots[self->slot_count++] = slot;
    return slot;
}

static void slot_free(slot_t *slot)
{
    net_timer_cancel(&slot->retry_timer);
    for (size_t i = 0; i < slot->stream_count; i++)
        free(slot->streams[i]);
    free(slot->streams);
    free(slot);
}

/* ---- the periodic check ------------------------------------------------------------------- */

static void check(net_timer_t *timer)
{
    pool_t *self = lws_container_of(timer, pool_t, check_timer);
    int64_t now = now_monotonic_ms();
    for (size_t i = 0; i < self->slot_count && !self->stopping; i++) {
        slot_t *slot = self->slots[i];
        if (!slot->cur || !conn_is_up(slot->cur->conn))
            continue;
        int64_t idle = now - conn_last_frame_ms(slot->cur->conn);
        if (idle >= self->opt.stale_after_ms) {
            char why[96];
            snprintf(why, sizeof why, "stale: no message for %lld ms", (long long)idle);
            log_warn("%s conn %u: %s; replacing it", market_name(self->market),
                     conn_id(slot->cur->conn), why);
            slot->state = SLOT_STALE;
            conn_close(slot->cur->conn, why);
            continue;
        }
        if (slot->rotate_requested ||
            (now - conn_up_ms(slot->cur->conn) >= self->opt.rotate_after_ms && !slot->next))
            start_rotation(slot, slot->rotate_requested ? slot->last_reason : REASON_ROTATION);
    }
    if (!self->stopping)
        net_timer_schedule(self->net, &self->check_timer, check, CHECK_INTERVAL_MS);
}

/* ---- the public side ---------------------------------------------------------------------- */

pool_t *pool_new(net_t *net, market_t market, const char *ws_url, const pool_options_t *options,
                 const pool_sink_t *sink, uint64_t seed)
{
    net_url_t probe;
    if (net_url_parse(ws_url, "/stream", &probe) != 0 ||
        (strncmp(ws_url, "ws://", 5) != 0 && strncmp(ws_url, "wss://", 6) != 0))
        return NULL;
    pool_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->net = net;
    self->market = market;
    snprintf(self->ws_url, sizeof self->ws_url, "%s", ws_url);
    size_t n = strlen(self->ws_url);
    while (n && self->ws_url[n - 1] == '/')
        self->ws_url[--n] = '\0';
    self->opt = *options;
    if (self->opt.max_streams_per_conn < 1)
        self->opt.max_streams_per_conn = 1;
    self->sink = *sink;
    self->seed = seed;
    net_timer_schedule(net, &self->check_timer, check, CHECK_INTERVAL_MS);
    return self;
}

void pool_destroy(pool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pool_t *self = *self_p;
    self->stopping = true;
    net_timer_cancel(&self->check_timer);
    /* Connections still open must not report to a pool that is gone: released, they close
       without events and free themselves once libwebsockets lets go of them. */
    while (self->links) {
        conn_release(&self->links->conn);
        link_free(self->links);
    }
    for (size_t i = 0; i < self->slot_count; i++)
        slot_free(self->slots[i]);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

static slot_t *slot_of_stream(const pool_t *self, const char *stream, size_t *index)
{
    for (size_t i = 0; i < self->slot_count; i++)
        for (size_t k = 0; k < self->slots[i]->stream_count; k++)
            if (strcmp(self->slots[i]->streams[k], stream) == 0) {
                if (index)
                    *index = k;
                return self->slots[i];
            }
    return NULL;
}

bool pool_has_stream(const pool_t *self, const char *stream)
{
    return slot_of_stream(self, stream, NULL) != NULL;
}

static int slot_take(slot_t *slot, const char *stream)
{
    if (slot->stream_count == slot->stream_cap) {
        size_t cap = slot->stream_cap ? slot->stream_cap * 2 : 16;
        char **grown = realloc(slot->streams, cap * sizeof *grown);
        if (!grown)
            return -1;
        slot->streams = grown;
        slot->stream_cap = cap;
    }
    char *copy = strdup(stream);
    if (!copy)
        return -1;
    slot->streams[slot->stream_count++] = copy;
    return 0;
}

/* Sends one SUBSCRIBE (or UNSUBSCRIBE) per slot for the streams of `names` placed on it (as
   many messages as CONN_STREAMS_PER_MESSAGE requires), on its connection and its replacement:
   one message per stream would take minutes at the exchange's message rate. */
static void slots_request(slot_t *const *placed, const char *const *names, size_t count,
                          bool subscribe)
{
    const char **batch = malloc((count ? count : 1) * sizeof *batch);
    if (!batch)
        return;
    for (size_t i = 0; i < count; i++) {
        slot_t *slot = placed[i];
        bool first = slot != NULL;
        for (size_t k = 0; k < i && first; k++)
            first = placed[k] != slot;
        if (!first)
            continue;
        size_t n = 0;
        for (size_t k = i; k < count; k++)
            if (placed[k] == slot)
                batch[n++] = names[k];
        link_t *links[2] = {slot->cur, slot->next};
        for (int l = 0; l < 2; l++) {
            if (!links[l])
                continue;
            if (subscribe)
                conn_subscribe(links[l]->conn, batch, n);
            else
                conn_unsubscribe(links[l]->conn, batch, n);
        }
    }
    free(batch);
}

int pool_add_streams(pool_t *self, const char *const *streams, size_t count)
{
    slot_t **placed = calloc(count ? count : 1, sizeof *placed);
    if (!placed)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        if (pool_has_stream(self, streams[i]))
            continue;
        plan_route_t route = plan_route(self->market, streams[i]);
        slot_t *slot = NULL;
        for (size_t k = 0; k < self->slot_count && !slot; k++) {
            slot_t *s = self->slots[k];
            if (s->route == route && s->state != SLOT_STOPPED && s->state != SLOT_FAILED &&
                s->stream_count < self->opt.max_streams_per_conn)
                slot = s;
        }
        bool fresh = false;
        if (!slot) {
            slot = slot_new(self, route);
            fresh = true;
        }
        if (!slot || slot_take(slot, streams[i]) != 0) {
            rc = -1;
            break;
        }
        if (!fresh)
            placed[i] = slot; /* a fresh slot subscribes everything when it connects */
        else if (!self->stopping)
            net_timer_schedule(self->net, &slot->retry_timer, retry_due, 0);
    }
    slots_request(placed, streams, count, true);
    free(placed);
    return rc;
}

void pool_remove_streams(pool_t *self, const char *const *streams, size_t count)
{
    slot_t **placed = calloc(count ? count : 1, sizeof *placed);
    if (!placed)
        return;
    for (size_t i = 0; i < count; i++) {
        size_t k;
        slot_t *slot = slot_of_stream(self, streams[i], &k);
        if (!slot)
            continue;
        free(slot->streams[k]);
        memmove(&slot->streams[k], &slot->streams[k + 1],
                (slot->stream_count - k - 1) * sizeof *slot->streams);
        slot->stream_count--;
        placed[i] = slot;
    }
    slots_request(placed, streams, count, false);
    for (size_t i = 0; i < count; i++) {
        slot_t *slot = placed[i];
        if (slot && slot->stream_count == 0 && slot->state != SLOT_STOPPED) {
            slot->state = SLOT_STOPPED;
            net_timer_cancel(&slot->retry_timer);
            if (slot->cur)
                conn_close(slot->cur->conn, "no streams left");
            if (slot->next)
                conn_close(slot->next->conn, "no streams left");
        }
    }
    free(placed);
}

void pool_stop(pool_t *self)
{
    self->stopping = true;
    net_timer_cancel(&self->check_timer);
    for (size_t i = 0; i < self->slot_count; i++) {
        slot_t *slot = self->slots[i];
        net_timer_cancel(&slot->retry_timer);
        slot->state = SLOT_STOPPED;
        if (slot->cur)
            conn_close(slot->cur->conn, "collector stopping");
        if (slot->next)
            conn_close(slot->next->conn, "collector stopping");
    }
}

bool pool_idle(const pool_t *self)
{
    for (size_t i = 0; i < self->slot_count; i++)
        if (self->slots[i]->cur || self->slots[i]->next)
            return false;
    return true;
}

void pool_status(const pool_t *self, cJSON *array)
{
    int64_t now = now_monotonic_ms();
    for (size_t i = 0; i < self->slot_count; i++) {
        const slot_t *slot = self->slots[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            return;
        cJSON_AddNumberToObject(o, "slot", (double)i);
        cJSON_AddNumberToObject(o, "conn_id", slot->cur ? conn_id(slot->cur->conn) : 0);
        cJSON_AddStringToObject(o, "state", state_names[slot->state]);
        cJSON_AddStringToObject(o, "route", slot->route == PLAN_ROUTE_NONE
                                                ? "stream"
                                                : plan_route_name(slot->route));
        cJSON_AddNumberToObject(o, "streams", (double)slot->stream_count);
        cJSON_AddNumberToObject(o, "frames", (double)slot->frames);
        cJSON_AddNumberToObject(o, "bytes", (double)slot->bytes);
        cJSON_AddNumberToObject(o, "last_frame_age_ms",
                                slot->last_frame_ms ? (double)(now - slot->last_frame_ms) : -1);
        cJSON *r = cJSON_AddObjectToObject(o, "reconnects");
        for (int k = 0; r && k < REASON_COUNT; k++)
            cJSON_AddNumberToObject(r, reason_names[k], (double)slot->reconnects[k]);
        cJSON_AddBoolToObject(o, "rotating", slot->next != NULL);
        cJSON_AddItemToArray(array, o);
    }
}

void pool_stats(const pool_t *self, pool_stats_t *out)
{
    memset(out, 0, sizeof *out);
    out->slots = self->slot_count;
    for (size_t i = 0; i < self->slot_count; i++) {
        const slot_t *slot = self->slots[i];
        out->streams += slot->stream_count;
        out->running += slot->state == SLOT_RUNNING;
        out->reconnecting += slot->state == SLOT_RECONNECTING || slot->state == SLOT_STARTING;
        out->stale += slot->state == SLOT_STALE;
        out->failed += slot->state == SLOT_FAILED;
        out->frames += slot->frames;
        out->bytes += slot->bytes;
        for (int k = 0; k < REASON_COUNT; k++)
            out->reconnects += slot->reconnects[k];
    }
    out->connect_attempts = self->connect_attempts;
    out->attempts_deferred = self->attempts_deferred;
    out->rotations = self->rotations;
}
