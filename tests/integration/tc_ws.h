/*
 * tc_ws.h — one client WebSocket of bookcast-testclient: connects, reassembles messages from
 * fragments (up to TC_WS_MAX_MESSAGE bytes), sends queued text messages, and reports what
 * happened through callbacks with the wall-clock time it happened.
 *
 * Every connection ends with exactly one of on_error (it never opened: refused, TLS failure,
 * handshake answered with an HTTP status other than 101) or on_closed (it opened, then the socket
 * ended for any reason). A close frame from the server is reported by on_peer_close first.
 * libwebsockets answers the server's pings itself.
 */
#ifndef BOOKCAST_TC_WS_H
#define BOOKCAST_TC_WS_H

#include "tc_net.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_WS_MAX_MESSAGE (16u * 1024u * 1024u) /* Binance frames stay far below; so do we */

typedef struct tc_ws tc_ws_t;

typedef struct {
    void (*on_open)(void *arg, tc_ws_t *ws, int64_t recv_ns);
    /* A complete text message; `payload` is NUL-terminated (len excludes the NUL) and borrowed. */
    void (*on_text)(void *arg, tc_ws_t *ws, int64_t recv_ns, const char *payload, size_t len);
    /* A complete binary message (Binance's JSON streams never send one). */
    void (*on_binary)(void *arg, tc_ws_t *ws, int64_t recv_ns, size_t len);
    /* The server's close frame: code (1005 when it sent none) and reason bytes (borrowed). */
    void (*on_peer_close)(void *arg, tc_ws_t *ws, int64_t recv_ns, int code, const char *reason,
                          size_t reason_len);
    /* It never opened. http_status is the handshake's HTTP status, or 0 when none arrived. */
    void (*on_error)(void *arg, tc_ws_t *ws, int64_t recv_ns, int http_status, const char *text);
    /* It had opened and the socket has ended. */
    void (*on_closed)(void *arg, tc_ws_t *ws, int64_t recv_ns);
} tc_ws_events_t;

/* Starts connecting to `url` (a ws:// or wss:// URL). The net owns the result. Callbacks may run
   before this returns (on_error for a refused connect). Returns NULL only when out of memory. */
tc_ws_t *tc_ws_open(tc_net_t *net, const tc_url_t *url, const tc_ws_events_t *events, void *arg);

/* Queues a text message, sent once the connection is open, in order. Returns 0, or -1 when out
   of memory or the connection has ended. */
int tc_ws_send_text(tc_ws_t *self, const char *text, size_t len);

/* Closes the connection: with a close frame (`code`) when open, at once when still connecting.
   No-op once ended. */
void tc_ws_close(tc_ws_t *self, int code);

bool tc_ws_is_open(const tc_ws_t *self);         /* opened and not yet ended */
bool tc_ws_has_ended(const tc_ws_t *self);       /* on_error or on_closed has been reported */
size_t tc_ws_pending_sends(const tc_ws_t *self); /* queued messages not yet written */

#endif
