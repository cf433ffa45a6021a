/*
 * dedup.c — exactly-once for growing ids. See dedup.h.
 *
 * bit (id mod DEDUP_WINDOW) stands for the one id in (max - DEDUP_WINDOW, max] with that
 * remainder. Moving max forward clears the bits of the ids it passes over, so a stale bit from
 * an id a whole window earlier never reads as "seen".
 */
#include "dedup.h"

#include <string.h>

static void set_bit(dedup_t *d, uint64_t id)
{
    uint64_t b = id % DEDUP_WINDOW;
    d->bits[b / 64] |= (uint64_t)1 << (b % 64);
}

static bool test_bit(const dedup_t *d, uint64_t id)
{
    uint64_t b = id % DEDUP_WINDOW;
    return (d->bits[b / 64] >> (b % 64)) & 1;
}

static void clear_bit(dedup_t *d, uint64_t id)
{
    uint64_t b = id % DEDUP_WINDOW;
    d->bits[b / 64] &= ~((uint64_t)1 << (b % 64));
}

void dedup_init(dedup_t *d)
{
    memset(d, 0, sizeof *d);
}

dedup_result_t dedup_check(dedup_t *d, uint64_t id)
{
    if (!d->any) {
        d->any = true;
        d->max = id;
        set_bit(d, id);
        return DEDUP_NEW;
    }
    if (id > d->max) {
        if (id - d->max >= DEDUP_WINDOW) {
            memset(d->bits, 0, sizeof d->bits);
        } else {
            for (uint64_t k = d->max + 1; k < id; k++)
                clear_bit(d, k);
        }
        d->max = id;
        set_bit(d, id);
        return DEDUP_NEW;
    }
    if (d->max - id >= DEDUP_WINDOW)
        return DEDUP_TOO_OLD;
    if (test_bit(d, id))
        return DEDUP_DUPLICATE;
    set_bit(d, id);
    return DEDUP_NEW;
}
