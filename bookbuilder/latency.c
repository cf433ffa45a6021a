/*
 * latency.c — a log-linear latency histogram. See latency.h.
 *
 * A value v >= 16 with its highest bit at position e falls in bucket (e - 3) * 16 + the next four
 * bits of v; values below 16 have a bucket each. Quantiles walk the counts once.
 */
#include "latency.h"

#include <string.h>

static unsigned bucket_of(uint64_t v)
{
    if (v < (1u << LATENCY_SUB_BITS))
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= LATENCY_SUB_BITS */
    unsigned sub = (unsigned)(v >> (e - LATENCY_SUB_BITS)) & ((1u << LATENCY_SUB_BITS) - 1);
    unsigned b = ((e - LATENCY_SUB_BITS + 1) << LATENCY_SUB_BITS) + sub;
    return b < LATENCY_BUCKETS ? b : LATENCY_BUCKETS - 1;
}

/* The largest value that falls in bucket b. */
static int64_t bucket_top(unsigned b)
{
    if (b < (1u << LATENCY_SUB_BITS))
        return (int64_t)b;
    unsigned e = (b >> LATENCY_SUB_BITS) + LATENCY_SUB_BITS - 1;
    uint64_t sub = b & ((1u << LATENCY_SUB_BITS) - 1);
    if (e >= 62)
        return INT64_MAX;
    uint64_t base = ((uint64_t)1 << e) | (sub << (e - LATENCY_SUB_BITS));
    return (int64_t)(base + ((uint64_t)1 << (e - LATENCY_SUB_BITS)) - 1);
}

void latency_reset(latency_t *h)
{
    memset(h, 0, sizeof *h);
}

void latency_record(latency_t *h, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    h->counts[bucket_of((uint64_t)ns)]++;
    h->total++;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

int64_t latency_quantile(const latency_t *h, double q)
{
    if (h->total == 0)
        return 0;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    uint64_t rank = (uint64_t)(q * (double)h->total + 0.5);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < LATENCY_BUCKETS; b++) {
        seen += h->counts[b];
        if (seen >= rank) {
            int64_t top = bucket_top(b);
            return top < h->max_ns ? top : h->max_ns;
        }
    }
    return h->max_ns;
}
