/*
 * book.c — the sim's true order book: two sorted arrays per symbol.
 *
 * Why its own book. The sim is the truth the bookbuilder is checked against: if both used one
 * book implementation, a bug in it would make them agree while both are wrong. So this file
 * shares nothing with bookbuilder/book.c and is kept deliberately plain.
 *
 * Layout. Each side is one array of sim_level_t kept in *worst-first* order: bids by ascending
 * price, asks by descending price, so the best level is the last element. Nearly every change
 * of a live book is near the top, and with the top at the end of the array an insert or remove
 * there moves only the few levels above it (memmove of a handful of 16-byte entries), whereas a
 * best-first array would move the whole ladder on every top-of-book insert. Lookups gallop from
 * the top end (1, 2, 4, … levels down) and finish with a binary search, so finding the k-th
 * level costs O(log k) and touches only the cache lines near the top.
 *
 * Ordering uses a key: the price for bids, minus the price for asks, so both sides ascend by key
 * toward the best level and one search routine serves both. Prices are positive dec_t units, so
 * the negation cannot overflow.
 *
 * Rejected: a balanced tree or skip list (pointer chasing, an allocation per level, and ladders
 * are at most a few thousand levels), a hash map plus a sorted index (two structures to keep
 * consistent), a dense array indexed by tick (prices walk; a window would need re-centring and
 * sparse far levels waste memory).
 */
#include "book.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOOK_DEFAULT_CAPACITY 64

struct sim_book_t {
    sim_level_t *levels[2]; /* per side, worst first: the best level is levels[side][count-1] */
    size_t count[2];
    size_t capacity[2];
};

static bool side_valid(sim_side_t side)
{
    return side == SIM_BID || side == SIM_ASK;
}

static int64_t level_key(sim_side_t side, dec_t price)
{
    return side == SIM_BID ? price.units : -price.units;
}

/* The first index whose key is >= key (count when none): where `price` is or would go. */
static size_t lower_bound(const sim_book_t *self, sim_side_t side, int64_t key)
{
    const sim_level_t *levels = self->levels[side];
    size_t lo = 0, hi = self->count[side], step = 1;
    /* Gallop down from the top: every index >= hi has a key >= key. */
    while (hi > 0) {
        size_t probe = hi > step ? hi - step : 0;
        if (level_key(side, levels[probe].price) < key) {
            lo = probe + 1;
            break;
        }
        hi = probe;
        step <<= 1;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (level_key(side, levels[mid].price) < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

sim_book_t *sim_book_new(size_t capacity)
{
    if (capacity == 0)
        capacity = BOOK_DEFAULT_CAPACITY;
    if (capacity > SIZE_MAX / sizeof(sim_level_t))
        return NULL;
    sim_book_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    for (int side = 0; side < 2; side++) {
        self->levels[side] = malloc(capacity * sizeof(sim_level_t));
        if (!self->levels[side]) {
            sim_book_destroy(&self);
            return NULL;
        }
        self->capacity[side] = capacity;
    }
    return self;
}

void sim_book_destroy(sim_book_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_book_t *self = *self_p;
    free(self->levels[SIM_BID]);
    free(self->levels[SIM_ASK]);
    free(self);
    *self_p = NULL;
}

static int grow(sim_book_t *self, sim_side_t side)
{
    size_t capacity = self->capacity[side];
    if (capacity > SIZE_MAX / 2 / sizeof(sim_level_t))
        return -1;
    sim_level_t *levels = realloc(self->levels[side], 2 * capacity * sizeof(sim_level_t));
    if (!levels)
        return -1;
    self->levels[side] = levels;
    self->capacity[side] = 2 * capacity;
    return 0;
}

int sim_book_set(sim_book_t *self, sim_side_t side, dec_t price, dec_t qty, dec_t *prev_qty)
{
    if (!side_valid(side) || price.units <= 0 || qty.units < 0)
        return -1;
    sim_level_t *levels = self->levels[side];
    size_t count = self->count[side];
    size_t index = lower_bound(self, side, level_key(side, price));
    bool found = index < count && levels[index].price.units == price.units;
    dec_t before = found ? levels[index].qty : (dec_t){0};
    if (qty.units == 0) {
        if (found) {
            memmove(&levels[index], &levels[index + 1], (count - index - 1) * sizeof *levels);
            self->count[side] = count - 1;
        }
    } else if (found) {
        levels[index].qty = qty;
    } else {
        if (count == self->capacity[side]) {
            if (grow(self, side) != 0)
                return -1;
            levels = self->levels[side];
        }
        memmove(&levels[index + 1], &levels[index], (count - index) * sizeof *levels);
        levels[index] = (sim_level_t){.price = price, .qty = qty};
        self->count[side] = count + 1;
    }
    if (prev_qty)
        *prev_qty = before;
    return 0;
}

dec_t sim_book_get(const sim_book_t *self, sim_side_t side, dec_t price)
{
    if (!side_valid(side))
        return (dec_t){0};
    size_t index = lower_bound(self, side, level_key(side, price));
    if (index < self->count[side] && self->levels[side][index].price.units == price.units)
        return self->levels[side][index].qty;
    return (dec_t){0};
}

size_t sim_book_count(const sim_book_t *self, sim_side_t side)
{
    return side_valid(side) ? self->count[side] : 0;
}

bool sim_book_best(const sim_book_t *self, sim_side_t side, sim_level_t *out)
{
    if (!side_valid(side) || self->count[side] == 0)
        return false;
    *out = self->levels[side][self->count[side] - 1];
    return true;
}

sim_level_t sim_book_level(const sim_book_t *self, sim_side_t side, size_t index)
{
    return self->levels[side][self->count[side] - 1 - index];
}

size_t sim_book_top(const sim_book_t *self, sim_side_t side, sim_level_t *out, size_t max)
{
    if (!side_valid(side))
        return 0;
    size_t count = self->count[side];
    size_t n = max < count ? max : count;
    const sim_level_t *levels = self->levels[side];
    for (size_t i = 0; i < n; i++)
        out[i] = levels[count - 1 - i];
    return n;
}

int sim_book_check(const sim_book_t *self, char *err, size_t err_len)
{
    static const char *const names[2] = {"bids", "asks"};
    static const char *const orders[2] = {"descending", "ascending"};
    for (int side = 0; side < 2; side++) {
        size_t count = self->count[side];
        const sim_level_t *levels = self->levels[side];
        for (size_t i = 0; i < count; i++) {
            size_t rank = count - 1 - i; /* index from the best, as a reader counts */
            if (levels[i].price.units <= 0) {
                if (err)
                    snprintf(err, err_len, "%s: price not positive at index %zu", names[side],
                             rank);
                return -1;
            }
            if (levels[i].qty.units <= 0) {
                if (err)
                    snprintf(err, err_len, "%s: quantity not positive at index %zu",
                             names[side], rank);
                return -1;
            }
            if (i > 0 && level_key((sim_side_t)side, levels[i - 1].price) >=
                             level_key((sim_side_t)side, levels[i].price)) {
                if (err)
                    snprintf(err, err_len, "%s not %s at index %zu", names[side], orders[side],
                             rank);
                return -1;
            }
        }
    }
    sim_level_t bid, ask;
    if (sim_book_best(self, SIM_BID, &bid) && sim_book_best(self, SIM_ASK, &ask) &&
        bid.price.units >= ask.price.units) {
        if (err) {
            char b[DEC_STRLEN], a[DEC_STRLEN];
            dec_format(bid.price, b);
            dec_format(ask.price, a);
            snprintf(err, err_len, "crossed: best bid %s >= best ask %s", b, a);
        }
        return -1;
    }
    if (err && err_len > 0)
        err[0] = '\0';
    return 0;
}

void sim_book_clear(sim_book_t *self)
{
    self->count[SIM_BID] = 0;
    self->count[SIM_ASK] = 0;
}

sim_book_t *sim_book_dup(const sim_book_t *self)
{
    size_t capacity = self->count[SIM_BID] > self->count[SIM_ASK] ? self->count[SIM_BID]
                                                                  : self->count[SIM_ASK];
    sim_book_t *copy = sim_book_new(capacity);
    if (!copy)
        return NULL;
    for (int side = 0; side < 2; side++) {
        memcpy(copy->levels[side], self->levels[side], self->count[side] * sizeof(sim_level_t));
        copy->count[side] = self->count[side];
    }
    return copy;
}

bool sim_book_equal(const sim_book_t *a, const sim_book_t *b)
{
    for (int side = 0; side < 2; side++) {
        if (a->count[side] != b->count[side])
            return false;
        for (size_t i = 0; i < a->count[side]; i++)
            if (a->levels[side][i].price.units != b->levels[side][i].price.units ||
                a->levels[side][i].qty.units != b->levels[side][i].qty.units)
                return false;
    }
    return true;
}
