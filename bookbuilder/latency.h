/*
 * latency.h — a fixed-size histogram of latencies, for percentiles without keeping samples.
 *
 * The bookbuilder measures frame arrival → publish for every frame that published something,
 * hundreds of thousands a second, and reports p50/p99/p99.9 in its heartbeat and its benchmark.
 * Buckets are log-linear (16 per power of two, so any value is placed within 1/16 ≈ 6 % of
 * itself) over the whole int64 range of nanoseconds: recording is a couple of shifts and an
 * increment.
 */
#ifndef BOOKCAST_LATENCY_H
#define BOOKCAST_LATENCY_H

#include <stdint.h>

#define LATENCY_SUB_BITS 4
#define LATENCY_BUCKETS (64 << LATENCY_SUB_BITS)

typedef struct {
    uint64_t counts[LATENCY_BUCKETS];
    uint64_t total;
    int64_t max_ns;
} latency_t;

void latency_reset(latency_t *h);

/* Records one latency; negative values (clock steps) count as 0. */
void latency_record(latency_t *h, int64_t ns);

/* The value at quantile q in [0, 1] (0.99 for p99), as the upper bound of its bucket; 0 when
   nothing is recorded. */
int64_t latency_quantile(const latency_t *h, double q);

#endif
