/*
 * now.h — the two clocks bookcast reads: wall time for stamps that leave the process (receive
 * and publish times, ns since the Unix epoch) and monotonic time for timers and intervals, which
 * must not jump when the wall clock is stepped.
 */
#ifndef BOOKCAST_NOW_H
#define BOOKCAST_NOW_H

#include <stdint.h>
#include <time.h>

static inline int64_t now_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t now_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t now_monotonic_ms(void)
{
    return now_monotonic_ns() / 1000000;
}

#endif
