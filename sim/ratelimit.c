/*
 * ratelimit.c — message rate, connection attempts and REST weight, as Binance enforces them.
 *
 * 1. Incoming WebSocket messages. "WebSocket connections have a limit of 5 incoming messages
 *    per second. A message is considered: a PING frame, a PONG frame, a JSON controlled
 *    message" and "a connection that goes beyond the limit will be disconnected" [S-WS];
 *    futures: 10 [UM-CONN][CM-CONN]. Binance closes with 1008 "Too many requests"
 *    (binance-connector-js#530; Nautilus docs). Window: sliding, the last 1000 ms — the
 *    strictest reading of "per second", so a client that paces itself passes and a burst of
 *    limit+1 within any second fails (a calendar-second window would let 2×limit through across
 *    a boundary). A steady rate of exactly `limit` per second passes: a message at t counts the
 *    messages in (t-1000, t]. Not modelled: "IPs that are repeatedly disconnected may be
 *    banned" (no numbers given).
 *
 * 2. Connection attempts. "300 connections per attempt every 5 minutes per IP" [S-WS] (spot,
 *    2023-02-17 [S-CL]); futures pages state no number, so 300 is the default there too and
 *    the limit is settable per market. Decisions: the window is a fixed 5-minute window aligned
 *    to multiples of 5 min of the given clock (like Binance's intervalNum windows); every
 *    attempt counts, refused ones included, so hammering keeps a client out until the window
 *    ends; the refusal is HTTP 429 with Retry-After (seconds to the window's end) — the status
 *    Binance uses for every other rate limit, since the WebSocket doc names none.
 *
 * 3. REST weight [S-REST "LIMITS"]: every response carries X-MBX-USED-WEIGHT-1M; breaking the
 *    limit gives 429 with Retry-After ("the number of seconds required to wait … to prevent a
 *    ban"); "repeatedly violating rate limits and/or failing to back off after receiving 429s
 *    will result in an automated IP ban (HTTP status 418)", bans "scale in duration for repeat
 *    offenders, from 2 minutes to 3 days", and 418 carries Retry-After until the ban ends.
 *    Limits: spot 6000 per minute; futures 2400 per minute per IP, one budget for USD-M and
 *    COIN-M since 2026-06-30 (binance-protocol.md §3, §4) — so markets map to budgets through a
 *    table (sim_restweight_config_t) and two markets may share one. Decisions:
 *      - the window is the calendar minute (REQUEST_WEIGHT, interval MINUTE, intervalNum 1; the
 *        used-weight header drops to 0 at each minute boundary);
 *      - a request is charged before it is judged: weight used + w > limit → 429, and the
 *        header shows the total including it (clients see values above the limit);
 *      - Retry-After of a 429: seconds (rounded up) to the next minute boundary, when the whole
 *        budget frees; a client that waits that long is never banned;
 *      - "keeps sending after a 429": any request before that Retry-After has elapsed, beyond
 *        `tolerated_after_429` (default 0), is banned on the spot with 418;
 *      - ban lengths double per offence: 2, 4, 8, … minutes, capped at 3 days; offences are
 *        remembered for the tracker's lifetime (no amnesty);
 *      - during a ban every request gets 418 with Retry-After to the ban's end; banned requests
 *        are not charged and do not extend the ban;
 *      - -1003 texts: spot errors.md; futures error-code pages ("Too many requests; current limit
 *        is %s requests per minute …", "Way too many requests; IP banned until %s …").
 *    Endpoint weights: spot depth 1–100 → 5, 101–500 → 25, 501–1000 → 50, 1001–5000 → 250
 *    (above 5000 Binance serves 5000 and charges 250), default limit 100; exchangeInfo 20,
 *    ping 1, time 1 [S-REST]. Futures depth 5/10/20/50 → 2, 100 → 5, 500 → 10, 1000 → 20,
 *    default 500, other limits invalid; exchangeInfo, ping, time 1 ([PY-SDK] docstrings).
 *
 * Clients are kept in small arrays searched linearly: a sim serves a handful of addresses.
 */
#include "ratelimit.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEER_MAX 64 /* longest address kept (IPv6 text is at most 45 bytes) */

static int64_t floor_to(int64_t t, int64_t step)
{
    int64_t q = t / step;
    if (t % step < 0)
        q--;
    return q * step;
}

static int64_t ceil_seconds(int64_t ms)
{
    return ms <= 0 ? 0 : (ms + 999) / 1000;
}

static int market_index(market_t market)
{
    return market >= MARKET_SPOT && market <= MARKET_COINM ? (int)market - 1 : -1;
}

/* ---------------------------------------------------------------- incoming WS messages */

int sim_msgrate_limit(market_t market)
{
    switch (market) {
    case MARKET_SPOT:
        return SIM_MSGRATE_SPOT;
    case MARKET_USDM:
    case MARKET_COINM:
        return SIM_MSGRATE_FUTURES;
    }
    return 0;
}

void sim_msgrate_init_limit(sim_msgrate_t *self, unsigned per_second)
{
    memset(self, 0, sizeof *self);
    self->limit = per_second < 1 ? 1 : per_second > SIM_MSGRATE_MAX ? SIM_MSGRATE_MAX : per_second;
}

void sim_msgrate_init(sim_msgrate_t *self, market_t market)
{
    int limit = sim_msgrate_limit(market);
    sim_msgrate_init_limit(self, limit > 0 ? (unsigned)limit : SIM_MSGRATE_SPOT);
}

bool sim_msgrate_allow(sim_msgrate_t *self, int64_t now_ms)
{
    while (self->count > 0 && self->at_ms[self->head] <= now_ms - SIM_MSGRATE_WINDOW_MS) {
        self->head = (self->head + 1) % SIM_MSGRATE_MAX;
        self->count--;
    }
    if (self->count >= self->limit)
        return false;
    self->at_ms[(self->head + self->count) % SIM_MSGRATE_MAX] = now_ms;
    self->count++;
    return true;
}

/* ---------------------------------------------------------------- client tables */

/* Finds the entry of (peer, key) in an array of `size`-byte entries that each start with a
   peer_key_t, adding a zeroed one when absent. NULL when out of memory. */
typedef struct {
    char peer[PEER_MAX];
    int key;
} peer_key_t;

typedef struct {
    void *items;
    size_t count, cap, size;
} table_t;

static void *table_find(const table_t *t, const char *peer, int key)
{
    for (size_t i = 0; i < t->count; i++) {
        peer_key_t *k = (peer_key_t *)((char *)t->items + i * t->size);
        if (k->key == key && strncmp(k->peer, peer, PEER_MAX - 1) == 0)
            return k;
    }
    return NULL;
}

static void *table_get(table_t *t, const char *peer, int key)
{
    void *found = table_find(t, peer, key);
    if (found)
        return found;
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        void *items = realloc(t->items, cap * t->size);
        if (!items)
            return NULL;
        t->items = items;
        t->cap = cap;
    }
    peer_key_t *k = (peer_key_t *)((char *)t->items + t->count++ * t->size);
    memset(k, 0, t->size);
    snprintf(k->peer, sizeof k->peer, "%s", peer);
    k->key = key;
    return k;
}

/* ---------------------------------------------------------------- connection attempts */

typedef struct {
    peer_key_t id; /* key: market index */
    int64_t window_start_ms;
    unsigned attempts;
} conn_entry_t;

struct sim_connrate_t {
    unsigned limit[3];
    table_t clients;
};

sim_connrate_t *sim_connrate_new(void)
{
    sim_connrate_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->limit[0] = SIM_CONNRATE_SPOT;
    self->limit[1] = SIM_CONNRATE_FUTURES_DEFAULT;
    self->limit[2] = SIM_CONNRATE_FUTURES_DEFAULT;
    self->clients.size = sizeof(conn_entry_t);
    return self;
}

void sim_connrate_destroy(sim_connrate_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->clients.items);
    free(*self_p);
    *self_p = NULL;
}

void sim_connrate_set_limit(sim_connrate_t *self, market_t market, unsigned attempts)
{
    int m = market_index(market);
    if (m >= 0)
        self->limit[m] = attempts;
}

unsigned sim_connrate_get_limit(const sim_connrate_t *self, market_t market)
{
    int m = market_index(market);
    return m >= 0 ? self->limit[m] : 0;
}

void sim_connrate_check(sim_connrate_t *self, market_t market, const char *peer, int64_t now_ms,
                        sim_connrate_verdict_t *verdict)
{
    *verdict = (sim_connrate_verdict_t){.allowed = true};
    int m = market_index(market);
    conn_entry_t *e = m >= 0 ? table_get(&self->clients, peer ? peer : "", m) : NULL;
    if (!e)
        return;
    int64_t window = floor_to(now_ms, SIM_CONNRATE_WINDOW_MS);
    if (e->window_start_ms != window || e->attempts == 0) {
        e->window_start_ms = window;
        e->attempts = 0;
    }
    if (e->attempts < UINT_MAX)
        e->attempts++;
    verdict->attempts = e->attempts;
    if (e->attempts > self->limit[m]) {
        verdict->allowed = false;
        verdict->http_status = SIM_CONNRATE_HTTP_STATUS;
        verdict->retry_after_s = ceil_seconds(window + SIM_CONNRATE_WINDOW_MS - now_ms);
    }
}

bool sim_connrate_allow(sim_connrate_t *self, market_t market, const char *peer, int64_t now_ms)
{
    sim_connrate_verdict_t v;
    sim_connrate_check(self, market, peer, now_ms, &v);
    return v.allowed;
}

/* ---------------------------------------------------------------- REST weight */

sim_endpoint_t sim_restweight_endpoint(market_t market, const char *path)
{
    const char *prefix = market == MARKET_SPOT    ? "/api/v3/"
                         : market == MARKET_USDM  ? "/fapi/v1/"
                         : market == MARKET_COINM ? "/dapi/v1/"
                                                  : NULL;
    size_t n = prefix ? strlen(prefix) : 0;
    if (!prefix || !path || strncmp(path, prefix, n) != 0)
        return SIM_ENDPOINT_NONE;
    const char *rest = path + n;
    if (strcmp(rest, "depth") == 0)
        return SIM_ENDPOINT_DEPTH;
    if (strcmp(rest, "exchangeInfo") == 0)
        return SIM_ENDPOINT_EXCHANGE_INFO;
    if (strcmp(rest, "ping") == 0)
        return SIM_ENDPOINT_PING;
    if (strcmp(rest, "time") == 0)
        return SIM_ENDPOINT_TIME;
    return SIM_ENDPOINT_NONE;
}

/* Spot /api/v3/depth [S-REST]: weight by limit band; default limit 100. */
static int spot_depth_weight(const long *limit, unsigned *weight)
{
    long l = limit ? *limit : 100;
    if (l < 1) {
        *weight = 5;
        return -1;
    }
    *weight = l <= 100 ? 5 : l <= 500 ? 25 : l <= 1000 ? 50 : 250;
    return 0;
}

/* Futures /fapi/v1/depth, /dapi/v1/depth [PY-SDK]: fixed limits; default 500. */
static int futures_depth_weight(const long *limit, unsigned *weight)
{
    long l = limit ? *limit : 500;
    switch (l) {
    case 5:
    case 10:
    case 20:
    case 50:
        *weight = 2;
        return 0;
    case 100:
        *weight = 5;
        return 0;
    case 500:
        *weight = 10;
        return 0;
    case 1000:
        *weight = 20;
        return 0;
    }
    *weight = 10;
    return -1;
}

int sim_restweight_of(market_t market, sim_endpoint_t ep, const long *limit, unsigned *weight)
{
    bool spot = market == MARKET_SPOT;
    *weight = 1;
    if (market_index(market) < 0)
        return -1;
    switch (ep) {
    case SIM_ENDPOINT_DEPTH:
        return spot ? spot_depth_weight(limit, weight) : futures_depth_weight(limit, weight);
    case SIM_ENDPOINT_EXCHANGE_INFO:
        *weight = spot ? 20 : 1;
        return 0;
    case SIM_ENDPOINT_PING:
    case SIM_ENDPOINT_TIME:
        *weight = 1;
        return 0;
    case SIM_ENDPOINT_NONE:
        break;
    }
    return -1;
}

void sim_restweight_config_default(sim_restweight_config_t *config)
{
    *config = (sim_restweight_config_t){
        .budget_of = {0, 1, 1},
        .limit_per_min = {SIM_RESTWEIGHT_SPOT_LIMIT, SIM_RESTWEIGHT_FUTURES_LIMIT,
                          SIM_RESTWEIGHT_FUTURES_LIMIT},
        .tolerated_after_429 = 0,
        .first_ban_ms = SIM_RESTWEIGHT_FIRST_BAN_MS,
        .max_ban_ms = SIM_RESTWEIGHT_MAX_BAN_MS,
    };
}

typedef struct {
    peer_key_t id; /* key: budget index */
    int64_t window_start_ms;
    unsigned used;
    int64_t backoff_until_ms; /* the Retry-After of the last 429; 0 when none pending */
    unsigned after_429;       /* requests sent before that time */
    int64_t ban_until_ms;
    unsigned bans;            /* offences so far */
} weight_entry_t;

struct sim_restweight_t {
    sim_restweight_config_t config;
    table_t clients;
};

sim_restweight_t *sim_restweight_new(const sim_restweight_config_t *config)
{
    sim_restweight_config_t c;
    if (config)
        c = *config;
    else
        sim_restweight_config_default(&c);
    for (int m = 0; m < 3; m++)
        if (c.budget_of[m] >= SIM_RESTWEIGHT_BUDGETS || c.limit_per_min[c.budget_of[m]] == 0)
            return NULL;
    if (c.first_ban_ms <= 0 || c.max_ban_ms < c.first_ban_ms)
        return NULL;
    sim_restweight_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->config = c;
    self->clients.size = sizeof(weight_entry_t);
    return self;
}

void sim_restweight_destroy(sim_restweight_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->clients.items);
    free(*self_p);
    *self_p = NULL;
}

static void roll_window(weight_entry_t *e, int64_t now_ms)
{
    int64_t window = floor_to(now_ms, SIM_RESTWEIGHT_WINDOW_MS);
    if (e->window_start_ms != window) {
        e->window_start_ms = window;
        e->used = 0;
    }
}

static int64_t ban_length(const sim_restweight_config_t *c, unsigned offence)
{
    int64_t ms = c->first_ban_ms;
    for (unsigned k = 1; k < offence && ms < c->max_ban_ms; k++)
        ms *= 2;
    return ms < c->max_ban_ms ? ms : c->max_ban_ms;
}

void sim_restweight_charge(sim_restweight_t *self, market_t market, const char *peer,
                           unsigned weight, int64_t now_ms, sim_restweight_verdict_t *verdict)
{
    *verdict = (sim_restweight_verdict_t){.http_status = 200, .used_weight = weight};
    int m = market_index(market);
    if (m < 0)
        return;
    int budget = (int)self->config.budget_of[m];
    verdict->limit = self->config.limit_per_min[budget];
    weight_entry_t *e = table_get(&self->clients, peer ? peer : "", budget);
    if (!e)
        return;
    roll_window(e, now_ms);
    if (now_ms < e->ban_until_ms) {
        verdict->http_status = 418;
        verdict->used_weight = e->used;
        verdict->ban_until_ms = e->ban_until_ms;
        verdict->retry_after_s = ceil_seconds(e->ban_until_ms - now_ms);
        return;
    }
    if (now_ms < e->backoff_until_ms && ++e->after_429 > self->config.tolerated_after_429) {
        e->bans++;
        e->ban_until_ms = now_ms + ban_length(&self->config, e->bans);
        e->backoff_until_ms = 0;
        verdict->http_status = 418;
        verdict->used_weight = e->used;
        verdict->ban_until_ms = e->ban_until_ms;
        verdict->retry_after_s = ceil_seconds(e->ban_until_ms - now_ms);
        return;
    }
    e->used = e->used > UINT_MAX - weight ? UINT_MAX : e->used + weight;
    verdict->used_weight = e->used;
    if (e->used <= verdict->limit)
        return;
    if (now_ms >= e->backoff_until_ms) { /* a fresh 429: the back-off runs to the minute's end */
        e->backoff_until_ms = e->window_start_ms + SIM_RESTWEIGHT_WINDOW_MS;
        e->after_429 = 0;
    }
    verdict->http_status = 429;
    verdict->retry_after_s = ceil_seconds(e->backoff_until_ms - now_ms);
}

unsigned sim_restweight_used(const sim_restweight_t *self, market_t market, const char *peer,
                             int64_t now_ms)
{
    int m = market_index(market);
    if (m < 0)
        return 0;
    const weight_entry_t *e =
        table_find(&self->clients, peer ? peer : "", (int)self->config.budget_of[m]);
    if (!e || e->window_start_ms != floor_to(now_ms, SIM_RESTWEIGHT_WINDOW_MS))
        return 0;
    return e->used;
}

int sim_restweight_error_body(market_t market, const sim_restweight_verdict_t *verdict,
                              char *buf, size_t len)
{
    bool spot = market == MARKET_SPOT;
    if (verdict->http_status == 429)
        return snprintf(buf, len,
                        spot ? "{\"code\":-1003,\"msg\":\"Too much request weight used; current "
                               "limit is %u request weight per 1 MINUTE. Please use WebSocket "
                               "Streams for live updates to avoid polling the API.\"}"
                             : "{\"code\":-1003,\"msg\":\"Too many requests; current limit is %u "
                               "requests per minute. Please use the websocket for live updates "
                               "to avoid polling the API.\"}",
                        verdict->limit);
    if (verdict->http_status == 418)
        return snprintf(buf, len,
                        spot ? "{\"code\":-1003,\"msg\":\"Way too much request weight used; IP "
                               "banned until %lld. Please use WebSocket Streams for live updates "
                               "to avoid bans.\"}"
                             : "{\"code\":-1003,\"msg\":\"Way too many requests; IP banned until "
                               "%lld. Please use the websocket for live updates to avoid bans.\"}",
                        (long long)verdict->ban_until_ms);
    if (len)
        buf[0] = '\0';
    return 0;
}
