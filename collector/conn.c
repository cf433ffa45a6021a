/*
 * conn.c — one WebSocket connection (see conn.h).
 *
 * One libwebsockets client connection, in the shape of libwebsockets' minimal clients: the
 * callback switches on the reason and keeps everything in this struct. Messages are reassembled
 * from fragments into one growing buffer. Control messages (SUBSCRIBE/UNSUBSCRIBE) wait in a
 * FIFO and leave one per 1/rate seconds from the writeable callback, so a connection never
 * exceeds the exchange's incoming-message limit, whatever the owner asks for at once; answers are
 * matched by count (Binance answers in order) to know when everything is subscribed.
 *
 * The end of a connection is reported once, from whichever callback sees it first: a connect
 * error, the close, or the destruction of the wsi. A connect that cannot start is reported from
 * a timer, so the owner always learns of the end from the loop, never from inside conn_start.
 */
#include "conn.h"

#include "log.h"
#include "now.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conn_t {
    net_conn_t nc; /* first: the net hands it back */
    net_t *net;
    market_t market;
    uint32_t id;
    net_url_t url;
    conn_events_t ev;
    void *arg;

    bool released;     /* the owner wants no more events */
    bool up;
    bool down;         /* on_down reported (or suppressed after release) */
    bool closing;      /* conn_close asked for a close frame */
    bool wsi_gone;     /* libwebsockets is done with the socket (or never had one) */
    char close_reason[160];
    int peer_close_code; /* 0 when the server sent no close frame */
    char peer_close_reason[128];

    char **streams;
    size_t stream_count, stream_cap;

    char **pending; /* control messages not yet sent, FIFO */
    size_t pending_head, pending_count, pending_cap;
    uint64_t next_request_id;
    unsigned unanswered; /* requests sent and not answered yet */
    int64_t interval_ms;
    int64_t next_send_ms;
    net_timer_t send_timer;
    net_timer_t down_timer;

    char *rx;
    size_t rx_len, rx_cap;
    bool rx_discard; /* the message being received is over the limit */

    int64_t up_ms, last_frame_ms;
    uint64_t frames, bytes, request_errors;
};

static void conn_free(conn_t *self)
{
    net_timer_cancel(&self->send_timer);
    net_timer_cancel(&self->down_timer);
    for (size_t i = 0; i < self->stream_count; i++)
        free(self->streams[i]);
    free(self->streams);
    for (size_t i = 0; i < self->pending_count; i++)
        free(self->pending[(self->pending_head + i) % self->pending_cap]);
    free(self->pending);
    free(self->rx);
    free(self);
}

/* Frees the memory once both the owner and libwebsockets are done with it. */
static void maybe_free(conn_t *self)
{
    if (self->released && self->wsi_gone)
        conn_free(self);
}

static void report_down(conn_t *self, const char *reason)
{
    if (self->down)
        return;
    self->down = true;
    bool was_up = self->up;
    self->up = false;
    if (!self->released && self->ev.on_down)
        self->ev.on_down(self->arg, self, was_up, reason, now_realtime_ns());
}

/* ---- outgoing control messages ------------------------------------------------------------ */

static int pending_push(conn_t *self, char *text)
{
    if (self->pending_count == self->pending_cap) {
        size_t cap = self->pending_cap ? self->pending_cap * 2 : 8;
        char **grown = malloc(cap * sizeof *grown);
        if (!grown)
            return -1;
        for (size_t i = 0; i < self->pending_count; i++)
            grown[i] = self->pending[(self->pending_head + i) % self->pending_cap];
        free(self->pending);
        self->pending = grown;
        self->pending_cap = cap;
        self->pending_head = 0;
    }
    self->pending[(self->pending_head + self->pending_count) % self->pending_cap] = text;
    self->pending_count++;
    return 0;
}

static void send_due(net_timer_t *timer)
{
    conn_t *self = lws_container_of(timer, conn_t, send_timer);
    if (self->up && self->nc.wsi)
        lws_callback_on_writable(self->nc.wsi);
}

/* Asks for a writeable callback when the next message may go. */
static void schedule_send(conn_t *self)
{
    if (!self->up || !self->pending_count)
        return;
    int64_t wait = self->next_send_ms - now_monotonic_ms();
    net_timer_schedule(self->net, &self->send_timer, send_due, wait > 0 ? wait : 0);
}

static int write_next_message(conn_t *self, struct lws *wsi)
{
    if (!self->pending_count || now_monotonic_ms() < self->next_send_ms) {
        schedule_send(self);
        return 0;
    }
    char *text = self->pending[self->pending_head];
    self->pending_head = (self->pending_head + 1) % self->pending_cap;
    self->pending_count--;
    size_t len = strlen(text);
    unsigned char *buf = malloc(LWS_PRE + len);
    int rc = 0;
    if (!buf) {
        log_error("%s conn %u: out of memory sending a control message", market_name(self->market),
                  self->id);
        rc = -1;
    } else {
        memcpy(buf + LWS_PRE, text, len);
        if (lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len)
            rc = -1;
        else
            self->unanswered++;
        free(buf);
    }
    free(text);
    self->next_send_ms = now_monotonic_ms() + self->interval_ms;
    schedule_send(self);
    return rc;
}

/* Queues the SUBSCRIBE/UNSUBSCRIBE messages for `count` streams. */
static int queue_requests(conn_t *self, const char *method, const char *const *streams,
                          size_t count)
{
    for (size_t start = 0; start < count; start += CONN_STREAMS_PER_MESSAGE) {
        size_t end = start + CONN_STREAMS_PER_MESSAGE < count ? start + CONN_STREAMS_PER_MESSAGE
                                                              : count;
        size_t cap = 64;
        for (size_t i = start; i < end; i++)
            cap += strlen(streams[i]) + 3;
        char *text = malloc(cap);
        if (!text)
            return -1;
        size_t n = (size_t)snprintf(text, cap, "{\"method\":\"%s\",\"params\":[", method);
        for (size_t i = start; i < end; i++)
            n += (size_t)snprintf(text + n, cap - n, "%s\"%s\"", i > start ? "," : "",
                                  streams[i]);
        snprintf(text + n, cap - n, "],\"id\":%" PRIu64 "}", ++self->next_request_id);
        if (pending_push(self, text) != 0) {
            free(text);
            return -1;
        }
    }
    schedule_send(self);
    return 0;
}

int conn_subscribe(conn_t *self, const char *const *streams, size_t count)
{
    size_t added_from = self->stream_count;
    for (size_t i = 0; i < count; i++) {
        if (conn_has_stream(self, streams[i]))
            continue;
        if (self->stream_count == self->stream_cap) {
            size_t cap = self->stream_cap ? self->stream_cap * 2 : 16;
            char **grown = realloc(self->streams, cap * sizeof *grown);
            if (!grown)
                return -1;
            self->streams = grown;
            self->stream_cap = cap;
        }
        char *copy = strdup(streams[i]);
        if (!copy)
            return -1;
        self->streams[self->stream_count++] = copy;
    }
    return queue_requests(self, "SUBSCRIBE", (const char *const *)self->streams + added_from,
                          self->stream_count - added_from);
}

int conn_unsubscribe(conn_t *self, const char *const *streams, size_t count)
{
    const char **removed = malloc((count ? count : 1) * sizeof *removed);
    if (!removed)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        for (size_t k = 0; k < self->stream_count; k++)
            if (strcmp(self->streams[k], streams[i]) == 0) {
                removed[n++] = streams[i];
                free(self->streams[k]);
                memmove(&self->streams[k], &self->streams[k + 1],
                        (self->stream_count - k - 1) * sizeof *self->streams);
                self->stream_count--;
                break;
            }
    int rc = queue_requests(self, "UNSUBSCRIBE", removed, n);
    free(removed);
    return rc;
}

/* ---- incoming ----------------------------------------------------------------------------- */

/* Answers to our requests are short objects with "result" or "error" and our "id". */
static void note_answer(conn_t *self, const char *text, size_t len)
{
    if (len > 512 || (strncmp(text, "{\"result\"", 9) != 0 && strncmp(text, "{\"error\"", 8) != 0))
        return;
    if (!strstr(text, "\"id\""))
        return;
    if (self->unanswered)
        self->unanswered--;
    if (text[2] == 'e') {
        self->request_errors++;
        log_warn("%s conn %u: the exchange refused a request: %.*s", market_name(self->market),
                 self->id, (int)len, text);
    }
}

static void receive(conn_t *self, struct lws *wsi, const void *in, size_t len)
{
    if (!self->rx_discard) {
        if (self->rx_len + len > CONN_MAX_MESSAGE_BYTES) {
            self->rx_discard = true;
        } else {
            if (self->rx_len + len + 1 > self->rx_cap) {
                size_t cap = self->rx_cap ? self->rx_cap : 4096;
                while (cap < self->rx_len + len + 1)
                    cap *= 2;
                char *grown = realloc(self->rx, cap);
                if (!grown) {
                    log_error("%s conn %u: out of memory for a %zu-byte message",
                              market_name(self->market), self->id, self->rx_len + len);
                    self->rx_discard = true;
                } else {
                    self->rx = grown;
                    self->rx_cap = cap;
                }
            }
            if (!self->rx_discard) {
                memcpy(self->rx + self->rx_len, in, len);
                self->rx_len += len;
            }
        }
    }
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return;
    size_t total = self->rx_len;
    self->last_frame_ms = now_monotonic_ms();
    self->frames++;
    if (self->rx_discard) {
        log_warn("%s conn %u: dropped a message over %u bytes", market_name(self->market),
                 self->id, (unsigned)CONN_MAX_MESSAGE_BYTES);
        if (!self->released && self->ev.on_oversized)
            self->ev.on_oversized(self->arg, self, total);
    } else if (!lws_frame_is_binary(wsi)) {
        self->bytes += total;
        self->rx[total] = '\0';
        note_answer(self, self->rx, total);
        if (!self->released && self->ev.on_text)
            self->ev.on_text(self->arg, self, self->rx, total, now_realtime_ns());
    }
    self->rx_len = 0;
    self->rx_discard = false;
}

static int on_lws(net_conn_t *nc, struct lws *wsi, enum lws_callback_reasons reason, void *in,
                  size_t len)
{
    conn_t *self = (conn_t *)nc;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        self->up = true;
        self->up_ms = now_monotonic_ms();
        self->last_frame_ms = self->up_ms;
        if (!self->released && self->ev.on_up)
            self->ev.on_up(self->arg, self, now_realtime_ns());
        schedule_send(self);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        receive(self, wsi, in, len);
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (self->closing) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
            return -1;
        }
        return write_next_message(self, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2) {
            const unsigned char *p = in;
            self->peer_close_code = p[0] << 8 | p[1];
            snprintf(self->peer_close_reason, sizeof self->peer_close_reason, "%.*s",
                     (int)(len - 2), (const char *)p + 2);
        } else {
            self->peer_close_code = 1005;
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
        char why[300];
        snprintf(why, sizeof why, "connect to %s:%d failed: %s", self->url.host, self->url.port,
                 in ? (const char *)in : "unknown error");
        report_down(self, self->closing ? self->close_reason : why);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_CLOSED: {
        char why[300];
        if (self->closing)
            snprintf(why, sizeof why, "%s", self->close_reason);
        else if (self->peer_close_code)
            snprintf(why, sizeof why, "server closed: %d %s", self->peer_close_code,
                     self->peer_close_reason);
        else
            snprintf(why, sizeof why, "connection lost");
        report_down(self, why);
        return 0;
    }
    case LWS_CALLBACK_WSI_DESTROY:
        report_down(self, self->closing ? self->close_reason : "connection lost");
        self->wsi_gone = true;
        maybe_free(self);
        return 0;
    default:
        return 0;
    }
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

conn_t *conn_new(net_t *net, market_t market, uint32_t conn_id, const net_url_t *url,
                 const conn_events_t *events, void *arg)
{
    conn_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->nc.on_lws = on_lws;
    self->net = net;
    self->market = market;
    self->id = conn_id;
    self->url = *url;
    self->ev = *events;
    self->arg = arg;
    self->wsi_gone = true; /* until a connect starts */
    int rate = market == MARKET_SPOT ? CONN_MSGS_PER_S_SPOT : CONN_MSGS_PER_S_FUTURES;
    self->interval_ms = 1000 / rate + 1;
    return self;
}

void conn_set_message_interval_ms(conn_t *self, int64_t interval_ms)
{
    self->interval_ms = interval_ms > 0 ? interval_ms : 1;
}

int64_t conn_message_interval_ms(const conn_t *self)
{
    return self->interval_ms;
}

static void down_later(net_timer_t *timer)
{
    conn_t *self = lws_container_of(timer, conn_t, down_timer);
    char why[300];
    snprintf(why, sizeof why, "connect to %s:%d could not start", self->url.host, self->url.port);
    report_down(self, why);
}

int conn_start(conn_t *self)
{
    self->wsi_gone = false;
    if (net_connect(self->net, &self->nc, &self->url, NULL) != 0) {
        self->wsi_gone = true;
        net_timer_schedule(self->net, &self->down_timer, down_later, 0);
        return -1;
    }
    return 0;
}

void conn_close(conn_t *self, const char *reason)
{
    if (self->down || self->closing)
        return;
    self->closing = true;
    snprintf(self->close_reason, sizeof self->close_reason, "%s", reason);
    if (self->nc.wsi && self->up)
        lws_callback_on_writable(self->nc.wsi);
    else if (self->nc.wsi)
        lws_set_timeout(self->nc.wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
    else
        net_timer_schedule(self->net, &self->down_timer, down_later, 0);
}

void conn_release(conn_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    conn_t *self = *self_p;
    *self_p = NULL;
    self->released = true;
    net_timer_cancel(&self->send_timer);
    if (!self->wsi_gone && !self->down && self->nc.wsi) {
        /* Still open: close it; the memory goes at WSI_DESTROY. */
        self->closing = true;
        snprintf(self->close_reason, sizeof self->close_reason, "released");
        if (self->up)
            lws_callback_on_writable(self->nc.wsi);
        else
            lws_set_timeout(self->nc.wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
    }
    maybe_free(self);
}

uint32_t conn_id(const conn_t *self)
{
    return self->id;
}

bool conn_is_up(const conn_t *self)
{
    return self->up;
}

size_t conn_stream_count(const conn_t *self)
{
    return self->stream_count;
}

const char *conn_stream(const conn_t *self, size_t index)
{
    return index < self->stream_count ? self->streams[index] : NULL;
}

bool conn_has_stream(const conn_t *self, const char *stream)
{
    for (size_t i = 0; i < self->stream_count; i++)
        if (strcmp(self->streams[i], stream) == 0)
            return true;
    return false;
}

bool conn_subscribed(const conn_t *self)
{
    return self->up && self->pending_count == 0 && self->unanswered == 0;
}

int64_t conn_up_ms(const conn_t *self)
{
    return self->up_ms;
}

int64_t conn_last_frame_ms(const conn_t *self)
{
    return self->last_frame_ms;
}

uint64_t conn_frames(const conn_t *self)
{
    return self->frames;
}

uint64_t conn_bytes(const conn_t *self)
{
    return self->bytes;
}

uint64_t conn_request_errors(const conn_t *self)
{
    return self->request_errors;
}
