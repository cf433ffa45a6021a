/*
 * ratelimit.h — Binance's limits on what one client may send, with time passed in.
 *
 * Three mechanisms, each a small type (ratelimit.c explains the rules and their sources):
 *   sim_msgrate_t     incoming WebSocket messages (text, ping, pong) per connection per second;
 *                     over the limit the connection is closed with 1008 "Too many requests";
 *   sim_connrate_t    WebSocket connection attempts per client address per 5 minutes; over the
 *                     limit the handshake is refused with HTTP 429;
 *   sim_restweight_t  REST request weight per client address per minute, with the
 *                     X-MBX-USED-WEIGHT-1M value, 429 + Retry-After, and escalating 418 bans;
 *                     one budget may be shared by several markets (USD-M + COIN-M since
 *                     2026-06-30).
 * Every function takes the current time in milliseconds (any clock that does not go back; the
 * REST windows are calendar minutes, so give it wall time there), so tests need no sleeping.
 * Nothing here is thread-safe; the sim's service loop is one thread.
 */
#ifndef BOOKCAST_SIM_RATELIMIT_H
#define BOOKCAST_SIM_RATELIMIT_H

#include "envelope.h" /* market_t */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- incoming WS messages */

#define SIM_MSGRATE_SPOT 5     /* messages per second: spot [S-WS] "5 incoming messages" */
#define SIM_MSGRATE_FUTURES 10 /* USD-M [UM-CONN], COIN-M [CM-CONN] */
#define SIM_MSGRATE_WINDOW_MS 1000
#define SIM_MSGRATE_MAX 64 /* the largest per-second limit a sim_msgrate_t can hold */
/* The close Binance sends (binance-connector-js#530: "closed due to 1008: Too many requests"). */
#define SIM_MSGRATE_CLOSE_CODE 1008
#define SIM_MSGRATE_CLOSE_REASON "Too many requests"

/* A value type, so a connection can embed it; the fields are private. */
typedef struct {
    unsigned limit;
    unsigned count, head; /* a ring of the accepted messages' times in the window */
    int64_t at_ms[SIM_MSGRATE_MAX];
} sim_msgrate_t;

/* The per-second limit of `market` (5 spot, 10 futures; 0 for an unknown market). */
int sim_msgrate_limit(market_t market);
/* Starts an empty window with `market`'s limit. */
void sim_msgrate_init(sim_msgrate_t *self, market_t market);
/* Starts an empty window with a limit of `per_second` (clamped to 1..SIM_MSGRATE_MAX). */
void sim_msgrate_init_limit(sim_msgrate_t *self, unsigned per_second);
/* Counts one incoming message at now_ms. True when it is within the limit; false when it is one
   too many — close the connection with SIM_MSGRATE_CLOSE_CODE / _REASON. */
bool sim_msgrate_allow(sim_msgrate_t *self, int64_t now_ms);

/* ---------------------------------------------------------------- connection attempts */

#define SIM_CONNRATE_SPOT 300            /* attempts per IP per 5 minutes [S-WS], since 2023-02-17 */
#define SIM_CONNRATE_FUTURES_DEFAULT 300 /* not documented for futures: spot's value */
#define SIM_CONNRATE_WINDOW_MS (5 * 60 * 1000)
#define SIM_CONNRATE_HTTP_STATUS 429     /* the refusal; the sim's choice, see ratelimit.c */

typedef struct sim_connrate_t sim_connrate_t;

typedef struct {
    bool allowed;
    unsigned attempts;     /* attempts by this address in the current window, this one included */
    int http_status;       /* refused: SIM_CONNRATE_HTTP_STATUS; allowed: 0 */
    int64_t retry_after_s; /* refused: seconds until the window ends (Retry-After); else 0 */
} sim_connrate_verdict_t;

/* New tracker with the default limits for every market. NULL when out of memory. */
sim_connrate_t *sim_connrate_new(void);
void sim_connrate_destroy(sim_connrate_t **self_p);
/* Sets `market`'s limit (attempts per address per window); 0 refuses every attempt. */
void sim_connrate_set_limit(sim_connrate_t *self, market_t market, unsigned attempts);
unsigned sim_connrate_get_limit(const sim_connrate_t *self, market_t market);
/* Records one handshake attempt by `peer` (an address; refused attempts count too) on
   `market` at now_ms and fills *verdict. Out of memory, the attempt is allowed untracked. */
void sim_connrate_check(sim_connrate_t *self, market_t market, const char *peer, int64_t now_ms,
                        sim_connrate_verdict_t *verdict);
/* sim_connrate_check, returning only verdict.allowed. */
bool sim_connrate_allow(sim_connrate_t *self, market_t market, const char *peer, int64_t now_ms);

/* ---------------------------------------------------------------- REST weight */

#define SIM_RESTWEIGHT_SPOT_LIMIT 6000    /* REQUEST_WEIGHT per minute [S-CL 2023-08-25] */
#define SIM_RESTWEIGHT_FUTURES_LIMIT 2400 /* per minute, shared UM+CM since 2026-06-30 (§4) */
#define SIM_RESTWEIGHT_WINDOW_MS 60000    /* REQUEST_WEIGHT interval MINUTE, intervalNum 1 */
#define SIM_RESTWEIGHT_FIRST_BAN_MS (2LL * 60 * 1000)        /* [S-REST] "from 2 minutes" */
#define SIM_RESTWEIGHT_MAX_BAN_MS (3LL * 24 * 60 * 60 * 1000) /* "… to 3 days" */
#define SIM_RESTWEIGHT_BUDGETS 3

typedef enum {
    SIM_ENDPOINT_NONE = 0,      /* not an endpoint the sim weighs */
    SIM_ENDPOINT_DEPTH,         /* /api/v3/depth, /fapi/v1/depth, /dapi/v1/depth */
    SIM_ENDPOINT_EXCHANGE_INFO, /* …/exchangeInfo */
    SIM_ENDPOINT_PING,          /* …/ping */
    SIM_ENDPOINT_TIME,          /* …/time */
} sim_endpoint_t;

/* The endpoint at `path` (no query) for `market`: "/api/v3/…" on spot, "/fapi/v1/…" on USD-M,
   "/dapi/v1/…" on COIN-M; SIM_ENDPOINT_NONE otherwise. */
sim_endpoint_t sim_restweight_endpoint(market_t market, const char *path);

/* The weight of one request to `ep` on `market`; `limit` is the depth "limit" parameter, NULL
   when absent (ignored for the other endpoints). Returns 0, or -1 when `limit` is not a value
   the market accepts (spot: < 1; futures: not 5, 10, 20, 50, 100, 500, 1000) or ep is NONE —
   *weight is then the weight of the default limit, for charging a refused request. */
int sim_restweight_of(market_t market, sim_endpoint_t ep, const long *limit, unsigned *weight);

/* Which budget each market draws from, and each budget's limit per minute. */
typedef struct {
    unsigned budget_of[3]; /* [market - 1] → budget index: spot 0, USD-M 1, COIN-M 1 (shared) */
    unsigned limit_per_min[SIM_RESTWEIGHT_BUDGETS]; /* 6000, 2400, 2400 */
    unsigned tolerated_after_429; /* requests sent during a 429's Retry-After before a ban: 0 */
    int64_t first_ban_ms;         /* SIM_RESTWEIGHT_FIRST_BAN_MS, doubled per repeat offence */
    int64_t max_ban_ms;           /* SIM_RESTWEIGHT_MAX_BAN_MS */
} sim_restweight_config_t;

/* Binance's limits today (shared futures budget). */
void sim_restweight_config_default(sim_restweight_config_t *config);

typedef struct sim_restweight_t sim_restweight_t;

typedef struct {
    int http_status;       /* 200: serve the request; 429: over the limit; 418: banned */
    unsigned used_weight;  /* X-MBX-USED-WEIGHT-1M (and the legacy X-MBX-USED-WEIGHT) */
    unsigned limit;        /* the budget's limit per minute, for the -1003 message */
    int64_t retry_after_s; /* 429, 418: the Retry-After header; 200: 0 */
    int64_t ban_until_ms;  /* 418: the ban's end, for the -1003 message; else 0 */
} sim_restweight_verdict_t;

/* New budgets per `config` (copied; NULL = defaults). NULL when out of memory or when the
   config names a budget out of range or a zero limit. */
sim_restweight_t *sim_restweight_new(const sim_restweight_config_t *config);
void sim_restweight_destroy(sim_restweight_t **self_p);

/* Charges one request of `weight` by `peer` on `market` at now_ms (wall time) and fills
   *verdict. Out of memory, the request is served uncharged. */
void sim_restweight_charge(sim_restweight_t *self, market_t market, const char *peer,
                           unsigned weight, int64_t now_ms, sim_restweight_verdict_t *verdict);

/* The weight `peer` has used in the current minute of `market`'s budget. */
unsigned sim_restweight_used(const sim_restweight_t *self, market_t market, const char *peer,
                             int64_t now_ms);

/* Writes the -1003 body for a 429 or 418 verdict of `market` into buf (NUL-terminated), e.g.
   {"code":-1003,"msg":"Way too many requests; IP banned until 1700000120000. …"}. Returns
   snprintf's count; 0 (and buf "") for a 200 verdict. */
int sim_restweight_error_body(market_t market, const sim_restweight_verdict_t *verdict,
                              char *buf, size_t len);

#endif
