/*
 * net.h — the collector's one libwebsockets context, its service loop and its timers.
 *
 * Every exchange connection of a collector (the WebSocket streams and the REST requests) lives
 * in this one context and is served by one thread, as libwebsockets' minimal clients are: each
 * connection is an object embedding a net_conn_t, whose on_lws handles the libwebsockets
 * callbacks of that connection only (found through the wsi's opaque user data), so the modules
 * never share a callback switch. TLS always verifies the server: against the system CAs, or
 * against `ca_file` alone when one is configured (the simulator's throwaway CA). There is no
 * way to turn verification off.
 */
#ifndef BOOKCAST_COLLECTOR_NET_H
#define BOOKCAST_COLLECTOR_NET_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct net_t net_t;
typedef struct net_conn_t net_conn_t;

/* The part of every connection the net knows. */
struct net_conn_t {
    net_t *net;
    struct lws *wsi; /* NULL before connecting and once libwebsockets has destroyed the wsi */
    /* Handles one libwebsockets callback of this connection; returns what the callback
       returns. LWS_CALLBACK_WSI_DESTROY is the last call: afterwards the wsi is gone. */
    int (*on_lws)(net_conn_t *self, struct lws *wsi, enum lws_callback_reasons reason, void *in,
                  size_t len);
};

/* A parsed ws://, wss://, http:// or https:// URL. */
typedef struct {
    bool tls;
    char host[256];
    int port;
    char path[2048]; /* "/" when the URL has none; query included */
} net_url_t;

/* Parses `url` (with an optional `path` appended to its path, e.g. base URL + "/public/stream").
   Returns 0, or -1 when the scheme is not one of the four or the host or port is bad. */
int net_url_parse(const char *url, const char *path, net_url_t *out);

/* Creates the context. ca_file NULL or "" trusts the system CAs; otherwise only that file.
   Returns NULL with the reason logged. */
net_t *net_new(const char *ca_file);
/* Closes every connection (their callbacks still run, ending with WSI_DESTROY) and frees the
   context. NULL-safe. */
void net_destroy(net_t **self_p);

/* Starts connecting `conn`: a WebSocket upgrade when http_method is NULL, else that HTTP
   request. The connection's on_lws receives every callback from here on. Returns 0, or -1 when
   libwebsockets refused to start it (no callback will come). */
int net_connect(net_t *self, net_conn_t *conn, const net_url_t *url, const char *http_method);

/* A timer: `fn(timer)` runs once on the service thread after delay_ms (0: next pass).
   Rescheduling a pending timer moves it. Embed the timer in the object it serves and find the
   object with lws_container_of. */
typedef struct net_timer_t net_timer_t;
typedef void (*net_timer_fn)(net_timer_t *timer);
struct net_timer_t {
    lws_sorted_usec_list_t sul;
    net_timer_fn fn;
    net_t *net;
};
void net_timer_schedule(net_t *self, net_timer_t *timer, net_timer_fn fn, int64_t delay_ms);
void net_timer_cancel(net_timer_t *timer);

/* Runs the loop until net_stop. Returns 0, or -1 when libwebsockets failed. */
int net_run(net_t *self);
/* Makes net_run return after the current pass (callable from a callback or a timer). */
void net_stop(net_t *self);

/* Wall-clock time in ns since the epoch, for recv_ts_ns. */
int64_t net_now_ns(void);

#endif
