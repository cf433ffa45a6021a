/*
 * backoff.h — when to try a failed connection again: exponential backoff with jitter.
 *
 * The n-th retry waits base × 2^(n-1), capped at max, then moved by up to ±jitter% of itself at
 * random, so that connections dropped together do not all come back in the same millisecond.
 * When max_attempts attempts in a row have failed (0: never) the caller gives up and reports
 * the connection failed. A success resets the count. Pure arithmetic and a private generator:
 * deterministic for a seed, no clock, no allocation.
 */
#ifndef BOOKCAST_COLLECTOR_BACKOFF_H
#define BOOKCAST_COLLECTOR_BACKOFF_H

#include <stdint.h>

typedef struct {
    int64_t base_ms;       /* first delay, >= 1 */
    int64_t max_ms;        /* cap, >= base_ms */
    uint32_t jitter_pct;   /* 0..100: spread around the delay */
    uint32_t max_attempts; /* attempts that may fail in a row: the max_attempts-th failure
                              gives up; 0 = retry forever */
} backoff_policy_t;

/* A value type: embed it. */
typedef struct {
    backoff_policy_t policy;
    uint32_t failures; /* consecutive failures so far */
    uint64_t rng;
} backoff_t;

/* Starts with no failures. `seed` makes the jitter reproducible (any value; 0 is fine). */
void backoff_init(backoff_t *self, const backoff_policy_t *policy, uint64_t seed);

/* Records one more failed attempt and returns how long to wait before the next one, or -1 when
   this was the max_attempts-th failure in a row (give up). */
int64_t backoff_next_ms(backoff_t *self);

/* Records a success: the next failure starts again from base_ms. */
void backoff_reset(backoff_t *self);

#endif
