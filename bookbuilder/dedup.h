/*
 * dedup.h — exactly-once for ids that grow: trade ids, aggregate trade ids.
 *
 * During a rotation two connections deliver the same stream for a while, and either may be ahead,
 * so "drop ids <= the largest seen" would lose the trades the slower connection still owed. A
 * dedup_t remembers every id in a window of DEDUP_WINDOW below the largest seen, one bit each:
 * an id is new exactly when its bit is clear. Ids older than the window cannot be checked and
 * are refused (counted by the caller): after a rotation overlap of seconds, a trade thousands of
 * ids late is a replay, not news.
 */
#ifndef BOOKCAST_DEDUP_H
#define BOOKCAST_DEDUP_H

#include <stdbool.h>
#include <stdint.h>

#define DEDUP_WINDOW 4096 /* ids remembered below the largest; a multiple of 64 */

typedef struct {
    uint64_t max; /* largest id seen; meaningful when any */
    bool any;
    uint64_t bits[DEDUP_WINDOW / 64];
} dedup_t;

typedef enum {
    DEDUP_NEW,       /* first time: deliver it */
    DEDUP_DUPLICATE, /* seen before */
    DEDUP_TOO_OLD,   /* DEDUP_WINDOW or more below the largest: cannot tell, refused */
} dedup_result_t;

void dedup_init(dedup_t *d);

/* Records id and says whether it is new. */
dedup_result_t dedup_check(dedup_t *d, uint64_t id);

#endif
