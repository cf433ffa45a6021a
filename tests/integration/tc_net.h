/*
 * tc_net.h — the one libwebsockets context of a bookcast-testclient run, its service loop, and
 * the bookkeeping every client connection shares.
 *
 * A run has one context, one protocol callback and one loop: lws_service() sleeps until a socket
 * or a timer needs it (its timeout argument is ignored since lws 3.2), so a periodic lws_sul
 * timer calls the mode's tick function, which checks deadlines, starts connections and decides
 * when the run is over. Connections (tc_ws.h, tc_http.h) embed a tc_conn_t; the context's one
 * callback hands every event to the connection named by the wsi's opaque user data.
 *
 * The net owns every connection it was given, until tc_net_destroy: the lws context is destroyed
 * first (its close callbacks reach no user code any more), then the connections are freed. A
 * connection object therefore never dangles under a live wsi, and the modes never free one.
 *
 * TLS is always verified: the context trusts exactly the --ca file (not the system store), and
 * libwebsockets checks the server certificate's name against the URL's host (IP SANs included).
 */
#ifndef BOOKCAST_TC_NET_H
#define BOOKCAST_TC_NET_H

#include "tc_url.h"

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct tc_net tc_net_t;
typedef struct tc_conn tc_conn_t;

/* The part of every connection the net knows. */
struct tc_conn {
    tc_net_t *net;
    struct lws *wsi; /* NULL before the connect and once lws has destroyed the wsi */
    /* Handles one lws callback for this connection; returns what the lws callback returns. */
    int (*on_lws)(tc_conn_t *self, struct lws *wsi, enum lws_callback_reasons reason, void *in,
                  size_t len);
    void (*free_fn)(tc_conn_t *self); /* frees the embedding object */
    tc_conn_t *next;                  /* the net's list */
};

/* The loop's tick: called every tick_ms on the service thread. */
typedef void (*tc_tick_fn)(void *arg);

/* Creates the context. `ca_file` is the PEM file of trusted CAs, or NULL when the run uses no
   TLS (then a TLS URL fails to connect). Returns NULL with the reason on stderr. */
tc_net_t *tc_net_new(const char *ca_file);

/* Destroys the context (no connection callback reaches user code from here on), then frees every
   connection. NULL-safe; sets *self_p to NULL. */
void tc_net_destroy(tc_net_t **self_p);

/* Takes ownership of `conn` and starts connecting it to `url`: a WebSocket upgrade when
   `http_method` is NULL, else a plain HTTP request. Returns 0, or -1 when lws refused to start
   (the connection's CLIENT_CONNECTION_ERROR handling may already have run; conn->wsi is NULL). */
int tc_net_connect(tc_net_t *self, tc_conn_t *conn, const tc_url_t *url, const char *http_method);

/* Runs the service loop, calling tick(arg) every tick_ms, until tc_net_stop. Returns 0, or -1
   when lws_service failed. */
int tc_net_run(tc_net_t *self, int tick_ms, tc_tick_fn tick, void *arg);

/* Makes tc_net_run return after the current service pass. */
void tc_net_stop(tc_net_t *self);

/* True while the context is being destroyed: connections drop events instead of reporting. */
bool tc_net_closing(const tc_net_t *self);

/* The last error line libwebsockets logged since the previous call ("" when none), then
   forgets it. Connection errors append it: it often names the cause their own text hides. */
const char *tc_net_take_lws_error(void);

/* Wall-clock receive stamp for result lines, ns since the Unix epoch. */
int64_t tc_net_recv_ns(void);

#endif
