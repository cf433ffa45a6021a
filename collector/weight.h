/*
 * weight.h — the collector's share of Binance's REST request weight, spent so as never to earn
 * a 429.
 *
 * Binance counts request weight per IP in fixed one-minute windows and reports the count of the
 * current window in X-MBX-USED-WEIGHT-1M on every answer; past the limit it answers 429 with
 * Retry-After, and a client that keeps going is banned with 418 (binance-protocol.md §4). The
 * collector may use `share_pct` of the limit (USD-M and COIN-M share one IP limit since
 * 2026-06-30, so the default configuration gives each half). Before each request it asks
 * weight_wait_ms; the answer counts both its own charges in this window and the exchange's last
 * report (other programs on the same IP spend weight too), and after a 429 or 418 it is the
 * time until Retry-After ends. Wall-clock milliseconds are passed in; nothing here sleeps.
 */
#ifndef BOOKCAST_COLLECTOR_WEIGHT_H
#define BOOKCAST_COLLECTOR_WEIGHT_H

#include <stdbool.h>
#include <stdint.h>

#define WEIGHT_WINDOW_MS 60000
/* Requests wait this long past a window's end: the exchange's clock and ours differ a little,
   and a request that lands just before its minute ends would count against the old window. */
#define WEIGHT_WINDOW_MARGIN_MS 250

typedef struct {
    unsigned limit_per_min; /* the exchange's REQUEST_WEIGHT limit: spot 6000, futures 2400 */
    unsigned share_pct;     /* 1..100: the part of it this collector may use */
} weight_policy_t;

/* A value type: embed it. */
typedef struct {
    weight_policy_t policy;
    int64_t window_start_ms;  /* the minute being counted */
    unsigned charged;         /* weight this collector sent in that minute */
    unsigned reported;        /* the exchange's X-MBX-USED-WEIGHT-1M for that minute */
    int64_t blocked_until_ms; /* after a 429 or 418: no request before this */
    bool banned;              /* the block is a 418 ban */
    uint64_t throttled;       /* requests that had to wait for the budget */
    uint64_t rate_limited;    /* 429 answers */
    uint64_t bans;            /* 418 answers */
} weight_budget_t;

void weight_init(weight_budget_t *self, const weight_policy_t *policy);

/* The weight this collector may spend in one minute. */
unsigned weight_budget(const weight_budget_t *self);

/* 0 when a request of `weight` may go at now_ms, else how long to wait. A weight above the
   whole budget can never go: the answer is then -1. */
int64_t weight_wait_ms(weight_budget_t *self, unsigned weight, int64_t now_ms);

/* Counts a request of `weight` sent at now_ms. */
void weight_charge(weight_budget_t *self, unsigned weight, int64_t now_ms);

/* Takes X-MBX-USED-WEIGHT-1M from an answer received at now_ms. */
void weight_observe(weight_budget_t *self, unsigned used, int64_t now_ms);

/* A 429 (banned false) or 418 (banned true) answer at now_ms with Retry-After seconds (a
   missing or unreadable header counts as 60 s for a 429 and 120 s for a 418). */
void weight_on_refusal(weight_budget_t *self, bool banned, int64_t retry_after_s, int64_t now_ms);

/* The weight known spent in the current minute (the larger of ours and the exchange's). */
unsigned weight_used(weight_budget_t *self, int64_t now_ms);

#endif
