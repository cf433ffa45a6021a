/*
 * tc_book.h — the local order book of `bookcast-testclient sync`: two sides of exact decimal
 * levels, best first, plus the price range the last snapshot vouches for.
 *
 * Each side is one sorted array (bids by descending price, asks by ascending): a level is found
 * by binary search, inserted or removed by moving the tail. A test book holds a few thousand
 * levels at most, so the moves cost less than any tree's pointer chasing, and a sorted array is
 * the structure whose correctness a reader checks at a glance — which matters more here, where
 * the book is the reference a test trusts.
 *
 * The range: a REST snapshot returns at most `limit` levels per side, so when a side came back
 * full, levels beyond its worst price exist that the book cannot know until a diff names them
 * (binance-protocol.md §4, "levels outside the snapshot are unknown"). The book is exact only
 * within [best, worst snapshot price] of such a side; a side that came back short of the limit
 * was the whole side and is exact everywhere.
 */
#ifndef BOOKCAST_TC_BOOK_H
#define BOOKCAST_TC_BOOK_H

#include "decimal.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    dec_t price;
    dec_t qty;
} tc_level_t;

/* A growable list of levels, in the order they were added. */
typedef struct {
    tc_level_t *v;
    size_t n;
    size_t cap;
} tc_levels_t;

/* Appends a level. Returns 0, or -1 when out of memory. */
int tc_levels_push(tc_levels_t *list, dec_t price, dec_t qty);
/* Frees the levels and empties the list. */
void tc_levels_free(tc_levels_t *list);

/* One side of the book, best first. */
typedef struct {
    tc_levels_t levels;
    bool is_bids; /* bids: descending prices; asks: ascending */
    bool bounded; /* the snapshot's side was full: only prices up to `worst` are known */
    dec_t worst;  /* the snapshot's worst price on this side, when bounded */
} tc_side_t;

typedef struct {
    tc_side_t bids;
    tc_side_t asks;
} tc_book_t;

/* An empty book. */
void tc_book_init(tc_book_t *book);
/* Removes every level and the range; keeps the memory. */
void tc_book_clear(tc_book_t *book);
/* Frees the memory; the book is empty and usable afterwards. */
void tc_book_free(tc_book_t *book);

/* Sets the level at `price` to `qty`: inserts it, replaces its quantity, or removes it when qty
   is zero (removing an absent level is a no-op, as Binance says it is normal). Returns 0, or -1
   when out of memory. */
int tc_side_set(tc_side_t *side, dec_t price, dec_t qty);

/* True when `a` is a better price than `b` on this side (higher bid, lower ask). */
bool tc_side_better(const tc_side_t *side, dec_t a, dec_t b);

/* True when `price` lies within the range the snapshot vouches for on this side. */
bool tc_side_in_range(const tc_side_t *side, dec_t price);

#endif
