/*
 * server.c — libwebsockets plumbing for bookcast-sim (see server.h).
 *
 * One protocol callback serves both roles on each market's port, as Binance's hosts do: a plain
 * HTTP request is REST (answered by the venue), an Upgrade is a WebSocket stream connection.
 * Per connection the callback keeps a sim_conn_t (libwebsockets' per-session data) holding the
 * outgoing queue, the subscription state and the deadlines. The service loop only moves bytes
 * and schedules: rendering happens in the venue during the 10 ms tick, and each writeable
 * callback writes queued messages until the socket would block.
 *
 * Timers: one tick for the logical clock, and one per connection for the nearest of its
 * deadlines (next ping, pong deadline, serverShutdown notice, age cut). Closing is always done
 * from a writeable callback, where libwebsockets lets us send a close frame with a reason; an
 * abrupt drop (a fault) kills the socket without one.
 */
#include "server.h"

#include "control.h"
#include "log.h"
#include "now.h"
#include "signals.h"
#include "streamname.h"
#include "wsrequest.h"
#include "ratelimit.h"

#include <libwebsockets.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(LWS_PRE <= SIM_MSG_HEADROOM, "outq headroom must cover LWS_PRE");

#define TICK_US 10000             /* the logical clock's resolution in real-time mode */
#define LOAD_STEP_MS 10           /* logical time per step in load mode */
#define LOAD_STEPS_PER_TICK 1000  /* at most this much logical time per tick in load mode */
#define LOAD_QUEUE_HIGH (1u << 20) /* load mode waits while a client has this much queued */
#define LOAD_TICK_US 500
#define CLIENT_MESSAGE_MAX 65536  /* a longer client text message closes the connection */
#define WRITE_BATCH_BYTES 65536   /* frames written together in one TLS record */
#define PEER_MAX 64

typedef enum { CONN_HTTP, CONN_WS } conn_role_t;

typedef struct sim_conn_t sim_conn_t;
struct sim_conn_t {
    sim_subscriber_t sub; /* first: the venue hands it back to deliver() */
    struct lws *wsi;
    sim_server_t *server;
    int market_index;
    conn_role_t role;
    uint64_t id;
    char peer[PEER_MAX];
    char path[256];
    sim_conn_t *prev, *next;

    /* WebSocket */
    sim_outq_t *outq;
    sim_wsconn_t *ws;           /* subscriptions and the combined flag (wsrequest.h) */
    sim_msgrate_t msgrate;      /* incoming messages per second (ratelimit.h) */
    char *rx;                   /* a client message being reassembled */
    size_t rx_len;
    lws_sorted_usec_list_t sul; /* the nearest deadline */
    int64_t connected_ms;
    int64_t next_ping_ms;
    int64_t ping_unanswered_ms; /* when the oldest ping not yet answered went out; 0: none */
    char ping_payload[24];
    bool ping_due;
    bool shutdown_sent;
    /* faults (faults.h) */
    bool no_ping;
    bool ignore_pongs;
    bool truncate_next;
    uint64_t frames_sent;
    uint64_t bytes_sent;
    bool close_due;
    bool close_after_flush;     /* send what is queued before the close frame */
    enum lws_close_status close_status;
    char close_reason[96];

    /* HTTP */
    sim_http_response_t resp;
    sim_msg_t *http_body;
    int http_state;             /* 0 headers to send, 1 body to send */
};

struct sim_server_t {
    sim_server_options_t opt;
    struct lws_context *ctx;
    struct lws_vhost *vhosts[SIM_MARKETS];
    int market_of_vhost[SIM_MARKETS];
    lws_sorted_usec_list_t tick_sul;
    int64_t start_mono_ms;
    int64_t logical_ms;
    sim_conn_t *conns;
    uint64_t next_conn_id;
    sim_connrate_t *connrate;
    int64_t *fault_due_ms;      /* per scheduled fault: logical time of its next firing */
    bool stopping;
};

static sim_server_t *server_of_wsi(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

int64_t sim_server_logical_now(const sim_server_t *self)
{
    return self->logical_ms;
}

void sim_server_options_default(sim_server_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->ports[0] = 7443;
    o->ports[1] = 7444;
    o->ports[2] = 7445;
    o->tls = true;
    o->max_connection_age_ms = 24LL * 3600 * 1000;
    /* Spot: ping every 20 s, pong within 1 min; futures: every 3 min, within 10 min
       (binance-protocol.md §2). */
    o->ping_interval_ms[0] = 20000;
    o->pong_timeout_ms[0] = 60000;
    for (int i = 1; i < SIM_MARKETS; i++) {
        o->ping_interval_ms[i] = 180000;
        o->pong_timeout_ms[i] = 600000;
    }
    o->shutdown_notice_ms = 10000;
    o->max_queued_bytes = 64u << 20;
}

/* ---- connections ------------------------------------------------------------------------ */

static void conn_link(sim_server_t *s, sim_conn_t *c)
{
    c->next = s->conns;
    c->prev = NULL;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
}

static void conn_unlink(sim_server_t *s, sim_conn_t *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else if (s->conns == c)
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* Asks for a close with a close frame, sent from the next writeable callback. */
static void conn_close(sim_conn_t *c, enum lws_close_status status, const char *reason)
{
    if (c->close_due)
        return;
    c->close_due = true;
    c->close_status = status;
    snprintf(c->close_reason, sizeof c->close_reason, "%s", reason);
    log_info("%s conn %llu %s: closing (%d %s)", market_name((market_t)(c->market_index + 1)),
             (unsigned long long)c->id, c->peer, (int)status, reason);
    lws_callback_on_writable(c->wsi);
}

static void conn_deliver(sim_subscriber_t *sub, sim_msg_t *msg)
{
    sim_conn_t *c = (sim_conn_t *)sub;
    if (c->close_due)
        return;
    bool was_empty = sim_outq_count(c->outq) == 0;
    if (sim_outq_push(c->outq, msg) != 0) {
        conn_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
        return;
    }
    if (sim_outq_bytes(c->outq) > c->server->opt.max_queued_bytes) {
        conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "client too slow");
        return;
    }
    if (was_empty)
        lws_callback_on_writable(c->wsi);
}

/* Queues a text message the server writes itself (control responses, serverShutdown). */
static void conn_send_text(sim_conn_t *c, const char *text, size_t len)
{
    sim_msg_t *msg = sim_msg_new(text, len);
    if (!msg) {
        conn_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
        return;
    }
    conn_deliver(&c->sub, msg);
    sim_msg_unref(&msg);
}

static void conn_schedule(sim_conn_t *c);

static void conn_deadline(lws_sorted_usec_list_t *sul)
{
    sim_conn_t *c = lws_container_of(sul, sim_conn_t, sul);
    sim_server_t *s = c->server;
    int64_t now = now_monotonic_ms();
    int m = c->market_index;

    if (now - c->connected_ms >= s->opt.max_connection_age_ms) {
        conn_close(c, LWS_CLOSE_STATUS_NORMAL, "connection age limit");
        return;
    }
    if (m == 0 && !c->shutdown_sent &&
        now - c->connected_ms >= s->opt.max_connection_age_ms - s->opt.shutdown_notice_ms) {
        /* Spot announces a planned close (web-socket-streams.md, serverShutdown). */
        char text[160];
        int64_t e = now_realtime_ns() / 1000000;
        int n = sim_wsconn_combined(c->ws)
                    ? snprintf(text, sizeof text,
                               "{\"stream\":\"!serverShutdown\",\"data\":{\"e\":\"serverShutdown\","
                               "\"E\":%lld}}",
                               (long long)e)
                    : snprintf(text, sizeof text, "{\"e\":\"serverShutdown\",\"E\":%lld}",
                               (long long)e);
        conn_send_text(c, text, (size_t)n);
        c->shutdown_sent = true;
    }
    /* Binance closes a connection whose ping goes unanswered for the timeout; a server that
       sends no ping expects no pong. */
    if (c->ping_unanswered_ms && now - c->ping_unanswered_ms >= s->opt.pong_timeout_ms[m]) {
        conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "pong timeout");
        return;
    }
    if (now >= c->next_ping_ms) {
        c->ping_due = !c->no_ping;
        c->next_ping_ms = now + s->opt.ping_interval_ms[m];
        lws_callback_on_writable(c->wsi);
    }
    conn_schedule(c);
}

static void conn_schedule(sim_conn_t *c)
{
    sim_server_t *s = c->server;
    int m = c->market_index;
    int64_t now = now_monotonic_ms();
    int64_t due = c->next_ping_ms;
    int64_t pong_due = c->ping_unanswered_ms ? c->ping_unanswered_ms + s->opt.pong_timeout_ms[m]
                                             : INT64_MAX;
    int64_t age_due = c->connected_ms + s->opt.max_connection_age_ms;
    if (pong_due < due)
        due = pong_due;
    if (age_due < due)
        due = age_due;
    if (m == 0 && !c->shutdown_sent && age_due - s->opt.shutdown_notice_ms < due)
        due = age_due - s->opt.shutdown_notice_ms;
    int64_t wait_ms = due > now ? due - now : 0;
    lws_sul_schedule(s->ctx, 0, &c->sul, conn_deadline, (lws_usec_t)wait_ms * 1000);
}

static int ws_established(sim_conn_t *c)
{
    sim_server_t *s = c->server;
    c->role = CONN_WS;
    c->sub.deliver = conn_deliver;
    c->outq = sim_outq_new();
    if (!c->outq)
        return -1;
    char query[4096] = "";
    /* The streams of a combined URL arrive as the URI argument "streams=a/b/c". */
    for (int i = 0; i < 8; i++) {
        char frag[4096];
        int n = lws_hdr_copy_fragment(c->wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n <= 0)
            break;
        if (strncmp(frag, "streams=", 8) == 0)
            snprintf(query, sizeof query, "%s", frag + 8);
    }
    market_t market = (market_t)(c->market_index + 1);
    char err[160];
    c->ws = sim_wsconn_new(market, c->path, query, err, sizeof err);
    if (!c->ws) {
        log_info("%s %s: refused WebSocket on %s: %s", market_name(market), c->peer, c->path,
                 err);
        return -1;
    }
    c->sub.combined = sim_wsconn_combined(c->ws);
    c->sub.route = sim_wsconn_route(c->ws);
    if (s->opt.msg_rate_limit)
        sim_msgrate_init_limit(&c->msgrate, s->opt.msg_rate_limit);
    else
        sim_msgrate_init(&c->msgrate, market);
    for (size_t i = 0; i < sim_wsconn_stream_count(c->ws); i++)
        sim_venue_subscribe(s->opt.venues[c->market_index], &c->sub,
                            sim_wsconn_stream(c->ws, i));
    c->connected_ms = now_monotonic_ms();
    c->ping_unanswered_ms = 0;
    c->next_ping_ms = c->connected_ms + s->opt.ping_interval_ms[c->market_index];
    conn_link(s, c);
    conn_schedule(c);
    log_info("%s conn %llu %s: open %s%s%s (%zu streams)", market_name(market),
             (unsigned long long)c->id, c->peer, c->path, query[0] ? "?streams=" : "", query,
             sim_wsconn_stream_count(c->ws));
    return 0;
}

/* One complete client text message: a control request. */
static void ws_message(sim_conn_t *c, const char *text, size_t len)
{
    sim_server_t *s = c->server;
    sim_venue_t *venue = s->opt.venues[c->market_index];
    sim_wsreply_t reply;
    sim_wsconn_handle(c->ws, text, len, &reply);
    for (size_t i = 0; i < reply.added_count; i++)
        sim_venue_subscribe(venue, &c->sub, reply.added[i]);
    for (size_t i = 0; i < reply.removed_count; i++)
        sim_venue_unsubscribe(venue, &c->sub, reply.removed[i]);
    c->sub.combined = sim_wsconn_combined(c->ws);
    if (reply.response_len)
        conn_send_text(c, reply.response, reply.response_len);
    if (reply.close) {
        /* The answer goes out first, then the close (an invalid stream name, wsrequest.c). */
        c->close_after_flush = true;
        conn_close(c, (enum lws_close_status)reply.close_code, reply.close_reason);
    } else if (reply.response_len == 0) {
        conn_close(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
    }
    sim_wsreply_clear(&reply);
}

static void ws_closed(sim_conn_t *c)
{
    sim_server_t *s = c->server;
    lws_sul_cancel(&c->sul);
    if (c->ws) {
        sim_venue_unsubscribe_all(s->opt.venues[c->market_index], &c->sub);
        sim_wsconn_destroy(&c->ws);
    }
    sim_outq_destroy(&c->outq);
    free(c->rx);
    c->rx = NULL;
    conn_unlink(s, c);
    log_info("%s conn %llu %s: closed", market_name((market_t)(c->market_index + 1)),
             (unsigned long long)c->id, c->peer);
}

/* Writes the header of an unmasked, final text frame of `len` bytes (RFC 6455 §5.2) at p;
   returns its size (2, 4 or 10 bytes). */
static size_t frame_header(unsigned char *p, size_t len)
{
    p[0] = 0x81;
    if (len < 126) {
        p[1] = (unsigned char)len;
        return 2;
    }
    if (len <= 0xffff) {
        p[1] = 126;
        p[2] = (unsigned char)(len >> 8);
        p[3] = (unsigned char)len;
        return 4;
    }
    p[1] = 127;
    for (int i = 0; i < 8; i++)
        p[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    return 10;
}

/* Writes queued messages until the socket would block. Small messages are framed here and
   written together, one TLS record and one send() for many frames: written one by one, each
   costs a TLS record and a system call, and at tens of thousands of frames a second those
   dominate the sim's CPU. A message too large for the batch goes out alone through lws. */
static int ws_write_queued(sim_conn_t *c)
{
    static unsigned char batch[LWS_PRE + WRITE_BATCH_BYTES];
    while (sim_outq_count(c->outq)) {
        size_t used = 0;
        while (sim_outq_count(c->outq)) {
            sim_msg_t *msg = sim_outq_peek(c->outq);
            size_t len = msg->len;
            if (c->truncate_next && len > 1) {
                /* A fault: the frame ends halfway through its JSON. */
                len /= 2;
                c->truncate_next = false;
            }
            if (used + len + 10 > WRITE_BATCH_BYTES) {
                if (used > 0)
                    break;
                /* Alone: lws frames it in the message's own headroom. */
                if (lws_write(c->wsi, sim_msg_data(msg), len, LWS_WRITE_TEXT) < (int)len)
                    return -1;
            } else {
                used += frame_header(batch + LWS_PRE + used, len);
                memcpy(batch + LWS_PRE + used, sim_msg_data(msg), len);
                used += len;
            }
            c->frames_sent++;
            c->bytes_sent += len;
            sim_outq_pop(c->outq);
        }
        if (used > 0 && lws_write(c->wsi, batch + LWS_PRE, used, LWS_WRITE_RAW) < (int)used)
            return -1;
        if (lws_send_pipe_choked(c->wsi))
            break;
    }
    return 0;
}

static int ws_writeable(sim_conn_t *c)
{
    if (c->close_due && c->close_after_flush && sim_outq_count(c->outq)) {
        if (ws_write_queued(c) != 0)
            return -1;
        if (sim_outq_count(c->outq)) {
            lws_callback_on_writable(c->wsi);
            return 0;
        }
    }
    if (c->close_due) {
        lws_close_reason(c->wsi, c->close_status, (unsigned char *)c->close_reason,
                         strlen(c->close_reason));
        return -1;
    }
    if (c->ping_due) {
        unsigned char buf[LWS_PRE + 32];
        int n = snprintf(c->ping_payload, sizeof c->ping_payload, "%lld",
                         (long long)(now_realtime_ns() / 1000000));
        memcpy(buf + LWS_PRE, c->ping_payload, (size_t)n);
        c->ping_due = false;
        if (!c->ping_unanswered_ms)
            c->ping_unanswered_ms = now_monotonic_ms();
        if (lws_write(c->wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_PING) < n)
            return -1;
        if (lws_send_pipe_choked(c->wsi)) {
            lws_callback_on_writable(c->wsi);
            return 0;
        }
    }
    if (ws_write_queued(c) != 0)
        return -1;
    if (sim_outq_count(c->outq))
        lws_callback_on_writable(c->wsi);
    return 0;
}

static int ws_receive(sim_conn_t *c, const void *in, size_t len)
{
    market_t market = (market_t)(c->market_index + 1);
    if (c->rx_len + len > CLIENT_MESSAGE_MAX) {
        conn_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
        return 0;
    }
    char *rx = realloc(c->rx, c->rx_len + len + 1);
    if (!rx)
        return -1;
    c->rx = rx;
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!lws_is_final_fragment(c->wsi) || lws_remaining_packet_payload(c->wsi))
        return 0;
    c->rx[c->rx_len] = '\0';
    if (!sim_msgrate_allow(&c->msgrate, now_monotonic_ms())) {
        log_warn("%s conn %llu %s: over %d incoming messages per second", market_name(market),
                 (unsigned long long)c->id, c->peer, sim_msgrate_limit(market));
        conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "Too many requests");
    } else if (!lws_frame_is_binary(c->wsi)) {
        ws_message(c, c->rx, c->rx_len);
    }
    c->rx_len = 0;
    return 0;
}

static void ws_pong(sim_conn_t *c, const void *in, size_t len)
{
    market_t market = (market_t)(c->market_index + 1);
    if (!sim_msgrate_allow(&c->msgrate, now_monotonic_ms())) {
        conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "Too many requests");
        return;
    }
    if (c->ignore_pongs)
        return;
    /* Spot: only a pong echoing the last ping's payload counts; futures accept unsolicited
       pongs (binance-protocol.md §2). */
    size_t plen = strlen(c->ping_payload);
    if (market != MARKET_SPOT || (len == plen && memcmp(in, c->ping_payload, len) == 0))
        c->ping_unanswered_ms = 0;
}

/* ---- HTTP ------------------------------------------------------------------------------- */

static void http_resume(lws_sorted_usec_list_t *sul)
{
    sim_conn_t *c = lws_container_of(sul, sim_conn_t, sul);
    lws_callback_on_writable(c->wsi);
}

static int http_request(sim_conn_t *c, const char *path)
{
    sim_server_t *s = c->server;
    c->role = CONN_HTTP;
    char query[2048] = "";
    size_t qlen = 0;
    for (int i = 0; i < 32; i++) {
        char frag[512];
        int n = lws_hdr_copy_fragment(c->wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n <= 0)
            break;
        int w = snprintf(query + qlen, sizeof query - qlen, "%s%s", qlen ? "&" : "", frag);
        if (w < 0 || (size_t)w >= sizeof query - qlen)
            break;
        qlen += (size_t)w;
    }
    const char *method = lws_hdr_total_length(c->wsi, WSI_TOKEN_GET_URI) ? "GET" : "OTHER";
    sim_http_request_t req = {method, path, query, c->peer, now_realtime_ns() / 1000000};
    memset(&c->resp, 0, sizeof c->resp);
    if (sim_control_owns(path))
        sim_control_http(s, (market_t)(c->market_index + 1), &req, &c->resp);
    else
        sim_venue_http(s->opt.venues[c->market_index], &req, &c->resp);
    c->http_body = sim_msg_new(c->resp.body, c->resp.body_len);
    free(c->resp.body);
    c->resp.body = NULL;
    if (!c->http_body)
        return -1;
    c->http_state = 0;
    log_debug("%s %s: %s %s?%s -> %d", market_name((market_t)(c->market_index + 1)), c->peer,
              method, path, query, c->resp.status);
    if (c->resp.delay_ms > 0)
        lws_sul_schedule(s->ctx, 0, &c->sul, http_resume, (lws_usec_t)c->resp.delay_ms * 1000);
    else
        lws_callback_on_writable(c->wsi);
    return 0;
}

static int http_writeable(sim_conn_t *c)
{
    if (!c->http_body)
        return 0;
    if (c->http_state == 0) {
        unsigned char buf[LWS_PRE + 1024];
        unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
        if (lws_add_http_common_headers(c->wsi, (unsigned int)c->resp.status,
                                        c->resp.content_type ? c->resp.content_type
                                                             : "application/json",
                                        c->http_body->len, &p, end))
            return -1;
        for (size_t i = 0; i < c->resp.header_count; i++) {
            char name[64];
            snprintf(name, sizeof name, "%s:", c->resp.headers[i].name);
            if (lws_add_http_header_by_name(c->wsi, (unsigned char *)name,
                                            (unsigned char *)c->resp.headers[i].value,
                                            (int)strlen(c->resp.headers[i].value), &p, end))
                return -1;
        }
        if (lws_finalize_write_http_header(c->wsi, start, &p, end))
            return -1;
        c->http_state = 1;
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    int n = lws_write(c->wsi, sim_msg_data(c->http_body), c->http_body->len,
                      LWS_WRITE_HTTP_FINAL);
    sim_msg_unref(&c->http_body);
    if (n < 0)
        return -1;
    return lws_http_transaction_completed(c->wsi) ? -1 : 0;
}

/* ---- the callback ----------------------------------------------------------------------- */

/* Answers a refused WebSocket upgrade with an HTTP status and Retry-After, written at once: the
   connection is closed right after, so there is no writeable callback to wait for. */
static void refuse_handshake(struct lws *wsi, const sim_connrate_verdict_t *verdict)
{
    static const char body[] = "{\"code\":-1003,\"msg\":\"Too many connection attempts.\"}";
    unsigned char buf[LWS_PRE + 512];
    unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf - 1;
    char retry[24];
    int n = snprintf(retry, sizeof retry, "%lld", (long long)verdict->retry_after_s);
    if (lws_add_http_common_headers(wsi, (unsigned int)verdict->http_status, "application/json",
                                    sizeof body - 1, &p, end) ||
        lws_add_http_header_by_name(wsi, (const unsigned char *)"Retry-After:",
                                    (const unsigned char *)retry, n, &p, end) ||
        lws_finalize_http_header(wsi, &p, end))
        return;
    memcpy(p, body, sizeof body - 1);
    p += sizeof body - 1;
    lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS);
}

static int market_index_of(struct lws *wsi)
{
    int *index = lws_get_vhost_user(lws_get_vhost(wsi));
    return index ? *index : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    sim_conn_t *c = user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    case LWS_CALLBACK_HTTP: {
        sim_server_t *s = server_of_wsi(wsi);
        if (!c)
            return 0;
        c->wsi = wsi;
        c->server = s;
        c->market_index = market_index_of(wsi);
        c->id = ++s->next_conn_id;
        lws_get_peer_simple(wsi, c->peer, sizeof c->peer);
        if (reason == LWS_CALLBACK_HTTP)
            return http_request(c, in ? (const char *)in : "/");
        lws_hdr_copy(wsi, c->path, sizeof c->path, WSI_TOKEN_GET_URI);
        market_t market = (market_t)(c->market_index + 1);
        sim_connrate_verdict_t verdict;
        sim_connrate_check(s->connrate, market, c->peer, now_monotonic_ms(), &verdict);
        if (!verdict.allowed) {
            log_warn("%s %s: %u connection attempts in 5 minutes, over the limit; handshake "
                     "refused with %d",
                     market_name(market), c->peer, verdict.attempts, verdict.http_status);
            refuse_handshake(wsi, &verdict);
            return -1;
        }
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED:
        return ws_established(c);
    case LWS_CALLBACK_RECEIVE:
        return ws_receive(c, in, len);
    case LWS_CALLBACK_RECEIVE_PONG:
        ws_pong(c, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return ws_writeable(c);
    case LWS_CALLBACK_CLOSED:
        ws_closed(c);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return http_writeable(c);
    case LWS_CALLBACK_CLOSED_HTTP:
        if (c) {
            lws_sul_cancel(&c->sul);
            sim_msg_unref(&c->http_body);
        }
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {"binance", callback, sizeof(sim_conn_t), CLIENT_MESSAGE_MAX, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- the clock -------------------------------------------------------------------------- */

static void fire_scheduled_faults(sim_server_t *s, int64_t now_ms);

/* The most bytes any WebSocket client has queued. */
static size_t clients_max_queued(const sim_server_t *s)
{
    size_t most = 0;
    for (const sim_conn_t *c = s->conns; c; c = c->next)
        if (c->outq && sim_outq_bytes(c->outq) > most)
            most = sim_outq_bytes(c->outq);
    return most;
}

static void advance_to(sim_server_t *s, int64_t logical_ms)
{
    s->logical_ms = logical_ms;
    fire_scheduled_faults(s, s->logical_ms);
    for (int i = 0; i < SIM_MARKETS; i++)
        if (s->opt.venues[i])
            sim_venue_advance(s->opt.venues[i], s->logical_ms);
}

/* Real time: logical time is the monotonic time since start. Load mode: once a client is
   connected, logical time moves on in small steps for as long as every client has less than
   LOAD_QUEUE_HIGH bytes queued, so the clients' reading speed sets the pace. */
static void tick(lws_sorted_usec_list_t *sul)
{
    sim_server_t *s = lws_container_of(sul, sim_server_t, tick_sul);
    lws_usec_t next_us = TICK_US;
    if (s->opt.load_mode) {
        for (int steps = 0; s->conns && steps < LOAD_STEPS_PER_TICK &&
                            clients_max_queued(s) < LOAD_QUEUE_HIGH;
             steps++)
            advance_to(s, s->logical_ms + LOAD_STEP_MS);
        next_us = LOAD_TICK_US;
    } else {
        advance_to(s, now_monotonic_ms() - s->start_mono_ms);
    }
    lws_sul_schedule(s->ctx, 0, &s->tick_sul, tick, next_us);
}

/* ---- lifecycle -------------------------------------------------------------------------- */

static void lws_log_to_ours(int level, const char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (level & LLL_ERR)
        log_error("libwebsockets: %.*s", (int)n, line);
    else
        log_warn("libwebsockets: %.*s", (int)n, line);
}

sim_server_t *sim_server_new(const sim_server_options_t *options)
{
    sim_server_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->opt = *options;
    s->connrate = sim_connrate_new();
    s->fault_due_ms = calloc(options->fault_count ? options->fault_count : 1,
                             sizeof *s->fault_due_ms);
    if (!s->connrate || !s->fault_due_ms) {
        sim_connrate_destroy(&s->connrate);
        free(s->fault_due_ms);
        free(s);
        return NULL;
    }
    for (size_t i = 0; i < options->fault_count; i++)
        s->fault_due_ms[i] = options->faults[i].after_ms;
    if (options->conn_attempts_per_5min)
        for (int i = 0; i < SIM_MARKETS; i++)
            sim_connrate_set_limit(s->connrate, (market_t)(i + 1),
                                   options->conn_attempts_per_5min);
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_ours);

    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6;
    if (s->opt.tls)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.user = s;
    s->ctx = lws_create_context(&info);
    if (!s->ctx) {
        log_error("sim: cannot create the libwebsockets context");
        sim_server_destroy(&s);
        return NULL;
    }
    for (int i = 0; i < SIM_MARKETS; i++) {
        if (!s->opt.ports[i] || !s->opt.venues[i])
            continue;
        s->market_of_vhost[i] = i;
        struct lws_context_creation_info vi;
        memset(&vi, 0, sizeof vi);
        vi.port = s->opt.ports[i];
        vi.iface = s->opt.host;
        vi.protocols = protocols;
        vi.vhost_name = market_name((market_t)(i + 1));
        vi.user = &s->market_of_vhost[i];
        vi.options = LWS_SERVER_OPTION_DISABLE_IPV6 | LWS_SERVER_OPTION_VALIDATE_UTF8;
        vi.alpn = "http/1.1";
        if (s->opt.tls) {
            vi.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
            vi.ssl_cert_filepath = s->opt.cert_file;
            vi.ssl_private_key_filepath = s->opt.key_file;
        }
        s->vhosts[i] = lws_create_vhost(s->ctx, &vi);
        if (!s->vhosts[i]) {
            log_error("sim: cannot listen on %s:%d for %s (port in use, or a bad certificate "
                      "or key)",
                      s->opt.host, s->opt.ports[i], vi.vhost_name);
            sim_server_destroy(&s);
            return NULL;
        }
        log_info("sim: %s listening on %s://%s:%d", vi.vhost_name, s->opt.tls ? "https" : "http",
                 s->opt.host, s->opt.ports[i]);
    }
    s->start_mono_ms = now_monotonic_ms();
    lws_sul_schedule(s->ctx, 0, &s->tick_sul, tick, 0);
    return s;
}

void sim_server_destroy(sim_server_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_server_t *s = *self_p;
    if (s->ctx) {
        lws_sul_cancel(&s->tick_sul);
        lws_context_destroy(s->ctx); /* closes every connection through the callback */
    }
    sim_connrate_destroy(&s->connrate);
    free(s->fault_due_ms);
    free(s);
    *self_p = NULL;
}

int sim_server_run(sim_server_t *self)
{
    while (!self->stopping && !signals_stop_requested())
        if (lws_service(self->ctx, 0) < 0)
            break;
    return 0;
}

void sim_server_stop(sim_server_t *self)
{
    self->stopping = true;
    lws_cancel_service(self->ctx);
}

sim_venue_t *sim_server_venue(sim_server_t *self, market_t market)
{
    int i = (int)market - 1;
    return i >= 0 && i < SIM_MARKETS ? self->opt.venues[i] : NULL;
}

/* ---- faults ------------------------------------------------------------------------------ */

/* A data frame in the connection's framing: wrapped as `stream` on a combined connection. */
static void conn_inject(sim_conn_t *c, const char *data, size_t data_len)
{
    const char *stream = sim_wsconn_stream_count(c->ws) ? sim_wsconn_stream(c->ws, 0)
                                                        : "btcusdt@depth";
    size_t cap = data_len + strlen(stream) + 32;
    char *text = malloc(cap);
    if (!text)
        return;
    int n = c->sub.combined
                ? snprintf(text, cap, "{\"stream\":\"%s\",\"data\":%.*s}", stream, (int)data_len,
                           data)
                : snprintf(text, cap, "%.*s", (int)data_len, data);
    if (n > 0)
        conn_send_text(c, text, (size_t)n);
    free(text);
}

/* A frame of exactly `bytes` bytes of valid JSON, the padding in one string. */
static void conn_inject_oversized(sim_conn_t *c, size_t bytes)
{
    static const char head[] = "{\"e\":\"depthUpdate\",\"pad\":\"";
    static const char tail[] = "\"}";
    size_t fixed = sizeof head - 1 + sizeof tail - 1;
    size_t pad = bytes > fixed ? bytes - fixed : 1;
    char *data = malloc(fixed + pad);
    if (!data)
        return;
    memcpy(data, head, sizeof head - 1);
    memset(data + sizeof head - 1, 'x', pad);
    memcpy(data + sizeof head - 1 + pad, tail, sizeof tail - 1);
    conn_inject(c, data, fixed + pad);
    free(data);
}

static void conn_fault(sim_conn_t *c, const sim_fault_t *f)
{
    /* Malformed: an object cut off mid-value. Wrong types: every field of a depth event with a
       JSON type Binance never sends there. */
    static const char malformed[] = "{\"e\":\"depthUpdate\",\"E\":17,\"s\":";
    static const char wrong_types[] = "{\"e\":\"depthUpdate\",\"E\":\"1700000000000\",\"s\":7,"
                                      "\"U\":\"x\",\"u\":-1,\"pu\":null,\"b\":{\"p\":1},"
                                      "\"a\":\"none\"}";
    switch (f->kind) {
    case SIM_FAULT_DROP:
        /* No close frame: the socket just dies, as when a host goes away. */
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
        break;
    case SIM_FAULT_ROTATION_STORM:
        conn_close(c, LWS_CLOSE_STATUS_GOINGAWAY, "server rotation");
        break;
    case SIM_FAULT_NO_PING:
        c->no_ping = true;
        break;
    case SIM_FAULT_IGNORE_PONGS:
        c->ignore_pongs = true;
        break;
    case SIM_FAULT_MALFORMED:
        conn_inject(c, malformed, sizeof malformed - 1);
        break;
    case SIM_FAULT_TRUNCATED:
        c->truncate_next = true;
        break;
    case SIM_FAULT_WRONG_TYPES:
        conn_inject(c, wrong_types, sizeof wrong_types - 1);
        break;
    case SIM_FAULT_OVERSIZED:
        conn_inject_oversized(c, f->bytes);
        break;
    default:
        break;
    }
}

static bool is_conn_fault(sim_fault_kind_t kind)
{
    return kind <= SIM_FAULT_OVERSIZED;
}

static int venue_fault(sim_venue_t *v, const sim_fault_t *f)
{
    switch (f->kind) {
    case SIM_FAULT_GAP:
        return sim_venue_stream_fault(v, SIM_STREAM_FAULT_GAP, f->symbol, f->count, f->ms);
    case SIM_FAULT_BREAK_PU:
        return sim_venue_stream_fault(v, SIM_STREAM_FAULT_BREAK_PU, f->symbol, f->count, f->ms);
    case SIM_FAULT_DUPLICATE:
        return sim_venue_stream_fault(v, SIM_STREAM_FAULT_DUPLICATE, f->symbol, f->count, f->ms);
    case SIM_FAULT_REORDER:
        return sim_venue_stream_fault(v, SIM_STREAM_FAULT_REORDER, f->symbol, f->count, f->ms);
    case SIM_FAULT_STALL:
        return sim_venue_stream_fault(v, SIM_STREAM_FAULT_STALL, f->symbol, f->count, f->ms);
    case SIM_FAULT_SNAPSHOT_STALE:
        sim_venue_rest_fault(v, SIM_REST_FAULT_STALE, f->count, f->ms);
        return 1;
    case SIM_FAULT_SNAPSHOT_5XX:
        sim_venue_rest_fault(v, SIM_REST_FAULT_5XX, f->count, f->ms);
        return 1;
    case SIM_FAULT_SNAPSHOT_429:
        sim_venue_rest_fault(v, SIM_REST_FAULT_429, f->count, f->ms);
        return 1;
    case SIM_FAULT_SNAPSHOT_418:
        sim_venue_rest_fault(v, SIM_REST_FAULT_418, f->count, f->ms);
        return 1;
    case SIM_FAULT_SNAPSHOT_SLOW:
        sim_venue_rest_fault(v, SIM_REST_FAULT_SLOW, f->count, f->ms);
        return 1;
    default:
        return 0;
    }
}

int sim_server_apply_fault(sim_server_t *self, const sim_fault_t *fault)
{
    int affected = 0;
    /* A rotation storm cuts every connection of every market at once. */
    market_t market = fault->kind == SIM_FAULT_ROTATION_STORM ? SIM_MARKET_ALL : fault->market;
    if (is_conn_fault(fault->kind)) {
        for (sim_conn_t *c = self->conns; c; c = c->next) {
            if (market != SIM_MARKET_ALL && c->market_index != (int)market - 1)
                continue;
            if (fault->conn && c->id != fault->conn)
                continue;
            conn_fault(c, fault);
            affected++;
        }
    } else {
        for (int i = 0; i < SIM_MARKETS; i++) {
            if (!self->opt.venues[i] || (market != SIM_MARKET_ALL && i != (int)market - 1))
                continue;
            affected += venue_fault(self->opt.venues[i], fault);
        }
    }
    log_info("sim: fault %s on %s%s%s: %d affected", sim_fault_name(fault->kind),
             market == SIM_MARKET_ALL ? "every market" : market_name(market),
             fault->symbol[0] ? " symbol " : "", fault->symbol, affected);
    return affected;
}

void sim_server_clear_faults(sim_server_t *self)
{
    for (sim_conn_t *c = self->conns; c; c = c->next) {
        c->no_ping = false;
        c->ignore_pongs = false;
        c->truncate_next = false;
        c->ping_unanswered_ms = 0;
    }
    for (int i = 0; i < SIM_MARKETS; i++)
        if (self->opt.venues[i])
            sim_venue_clear_faults(self->opt.venues[i]);
}

/* Fires the command line's scheduled faults that are due at logical time now_ms. */
static void fire_scheduled_faults(sim_server_t *s, int64_t now_ms)
{
    for (size_t i = 0; i < s->opt.fault_count; i++) {
        const sim_fault_t *f = &s->opt.faults[i];
        if (s->fault_due_ms[i] < 0 || now_ms < s->fault_due_ms[i])
            continue;
        sim_server_apply_fault(s, f);
        s->fault_due_ms[i] = f->every_ms > 0 ? s->fault_due_ms[i] + f->every_ms : -1;
    }
}

/* ---- status ------------------------------------------------------------------------------ */

/* Appends printf output to a growing string; on failure frees it and leaves NULL. */
static void append(char **out, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char **out, size_t *len, size_t *cap, const char *fmt, ...)
{
    if (!*out)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(*out + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            free(*out);
            *out = NULL;
            return;
        }
        if ((size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        char *grown = realloc(*out, *cap * 2 + (size_t)n);
        if (!grown) {
            free(*out);
            *out = NULL;
            return;
        }
        *out = grown;
        *cap = *cap * 2 + (size_t)n;
    }
}

char *sim_server_connections_json(const sim_server_t *self, market_t market)
{
    size_t len = 0, cap = 1024;
    char *out = malloc(cap);
    if (out)
        out[0] = '\0';
    append(&out, &len, &cap, "[");
    int64_t now = now_monotonic_ms();
    bool first = true;
    for (const sim_conn_t *c = self->conns; c; c = c->next) {
        if (market != SIM_MARKET_ALL && c->market_index != (int)market - 1)
            continue;
        append(&out, &len, &cap,
               "%s{\"id\":%llu,\"market\":\"%s\",\"peer\":\"%s\",\"path\":\"%s\","
               "\"age_ms\":%lld,\"queued_bytes\":%zu,\"frames_sent\":%llu,\"bytes_sent\":%llu,"
               "\"no_ping\":%s,\"ignore_pongs\":%s,\"streams\":[",
               first ? "" : ",", (unsigned long long)c->id,
               market_name((market_t)(c->market_index + 1)), c->peer, c->path,
               (long long)(now - c->connected_ms), c->outq ? sim_outq_bytes(c->outq) : 0,
               (unsigned long long)c->frames_sent, (unsigned long long)c->bytes_sent,
               c->no_ping ? "true" : "false", c->ignore_pongs ? "true" : "false");
        size_t n = c->ws ? sim_wsconn_stream_count(c->ws) : 0;
        for (size_t i = 0; i < n; i++)
            append(&out, &len, &cap, "%s\"%s\"", i ? "," : "", sim_wsconn_stream(c->ws, i));
        append(&out, &len, &cap, "]}");
        first = false;
    }
    append(&out, &len, &cap, "]");
    return out;
}
