/*
 * server.h — the sim's listeners: one libwebsockets vhost per market, each serving WebSocket
 * streams and REST on the same port, over TLS unless told otherwise.
 *
 * The server moves bytes and keeps time; the venues (venue.h) decide what the bytes are. One
 * thread runs everything: the libwebsockets service loop, a 10 ms tick that advances every
 * venue's logical clock and wakes connections with queued messages, and per-connection timers
 * for pings, pong deadlines and the connection-age cut.
 */
#ifndef BOOKCAST_SIM_SERVER_H
#define BOOKCAST_SIM_SERVER_H

#include "envelope.h"
#include "faults.h"
#include "venue.h"

#include <stdbool.h>
#include <stdint.h>

#define SIM_MARKETS 3 /* spot, usdm, coinm: index = market_t - 1 */

typedef struct {
    const char *host;            /* listen address, "127.0.0.1" */
    int ports[SIM_MARKETS];      /* 0 = that market is not served */
    bool tls;                    /* false only with --no-tls */
    const char *cert_file;       /* PEM certificate chain */
    const char *key_file;        /* PEM private key */
    sim_venue_t *venues[SIM_MARKETS];
    int64_t max_connection_age_ms;          /* Binance cuts every connection at 24 h */
    int64_t ping_interval_ms[SIM_MARKETS];  /* spot 20 s, futures 3 min */
    int64_t pong_timeout_ms[SIM_MARKETS];   /* spot 1 min, futures 10 min */
    int64_t shutdown_notice_ms;  /* spot sends serverShutdown this long before a planned cut */
    size_t max_queued_bytes;     /* a client this far behind is disconnected */
    bool load_mode;              /* logical time advances as fast as clients read */
    unsigned conn_attempts_per_5min; /* per client address and market; 0: Binance's 300 */
    unsigned msg_rate_limit;     /* incoming messages per second per connection; 0: Binance's */
    const sim_fault_t *faults;   /* scheduled faults (after_ms, every_ms), from the command line */
    size_t fault_count;
} sim_server_options_t;

typedef struct sim_server_t sim_server_t;

/* Fills the Binance defaults: 127.0.0.1:7443/7444/7445, TLS, 24 h, pings and pong deadlines per
   market, 10 s of serverShutdown notice, 64 MiB of queue per client. */
void sim_server_options_default(sim_server_options_t *options);

/* Creates the listeners. NULL with the reason logged when a port cannot be bound or the
   certificate cannot be loaded. The venues stay owned by the caller. */
sim_server_t *sim_server_new(const sim_server_options_t *options);
void sim_server_destroy(sim_server_t **self_p);

/* Serves until sim_server_stop() or a signal's stop request. Returns 0. */
int sim_server_run(sim_server_t *self);
void sim_server_stop(sim_server_t *self);

/* The logical time now, in ms since logical 0. */
int64_t sim_server_logical_now(const sim_server_t *self);

/* Carries out one fault (faults.h) on `market` (SIM_MARKET_ALL: every market): connection faults
   here, stream and snapshot faults through the venues. Returns how many connections, symbols or
   venues it reached (0: nothing matched, e.g. an unknown connection id or symbol). */
int sim_server_apply_fault(sim_server_t *self, const sim_fault_t *fault);

/* Clears every pending fault on every connection and venue. */
void sim_server_clear_faults(sim_server_t *self);

/* The venue serving `market`, or NULL. */
sim_venue_t *sim_server_venue(sim_server_t *self, market_t market);

/* A JSON array of the connections of `market` (SIM_MARKET_ALL: all): id, market, peer, path,
   streams, age, queued bytes, frames sent, active faults. malloc'd; NULL when out of memory. */
char *sim_server_connections_json(const sim_server_t *self, market_t market);

#endif
