/*
 * book.h — one order book: two sorted sides of exact price levels, bounded in size.
 *
 * A side is one contiguous array of (price, quantity) kept sorted with the best price at the
 * END of the array (bids ascending, asks descending). Almost every exchange update touches the
 * top of the book, so an insert or removal there moves only the few levels above it, and a
 * lookup is a binary search over memory that is already in cache. A tree or a hash would touch
 * more cache lines per update for no gain at the depths Binance sends (≤ 5000 levels a side).
 *
 * Memory is bounded: a side never holds more than max_levels levels. A new level that would be
 * the (max_levels + 1)-th is kept only if it is better than the worst level, which is then
 * dropped ("trimmed"): trimming happens only at the far end, never near the top. Capacity grows
 * by doubling up to max_levels plus an eighth (slack that keeps updates to a full side cheap), so
 * a thin book stays small and a full one holds at most 1.125 × max_levels × 16 bytes a side.
 *
 * Quantities are absolute, as Binance sends them: setting a quantity of 0 removes the level,
 * and removing a level the book does not hold is a no-op, as Binance documents ("can happen and
 * is normal"). The book itself does not forbid a crossed state; book_crossed() tells the caller,
 * which decides (the sync rules treat it as a broken book).
 */
#ifndef BOOKCAST_BOOK_H
#define BOOKCAST_BOOK_H

#include "decimal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    BOOK_BID = 0,
    BOOK_ASK = 1,
} book_side_t;

typedef struct {
    dec_t price;
    dec_t qty;
} book_level_t;

/* What book_set did. */
typedef enum {
    BOOK_INSERTED, /* a new level */
    BOOK_UPDATED,  /* an existing level got a new quantity (possibly the same one) */
    BOOK_REMOVED,  /* quantity 0 removed an existing level */
    BOOK_NOOP,     /* quantity 0 for a level the book does not hold: ignored */
    BOOK_TRIMMED,  /* a new level beyond the worst of a full side: not kept */
    BOOK_NOMEM,    /* growing the side failed: the book is unchanged */
} book_result_t;

typedef struct book_t book_t;

/* An empty book holding at most max_levels (>= 1) levels a side. NULL when out of memory. */
book_t *book_new(size_t max_levels);
void book_destroy(book_t **self_p);

/* Removes every level (keeps the allocated capacity). */
void book_clear(book_t *self);

/* Sets price's quantity on side (qty 0 removes). price must be > 0 and qty >= 0: the parser
   guarantees both. When a new level fills a full side past max_levels and is better than the
   worst, the worst is dropped and counted in book_trimmed(); the result is then BOOK_INSERTED.
   A new level no better than the worst of a full side is refused (BOOK_TRIMMED) and counted
   too. Allocates only to grow a side (capacity doubles), never once it has reached its bound. */
book_result_t book_set(book_t *self, book_side_t side, dec_t price, dec_t qty);

/* Replaces a whole side with `count` levels in any order (a snapshot): levels with a zero
   quantity are skipped (they remove nothing), a price given twice keeps the last of its non-zero
   quantities, and beyond max_levels only the best are kept (the rest counted as trimmed). Input
   already sorted either way round (Binance sends best first) is copied without allocating.
   Returns 0, or -1 when out of memory (side then empty). */
int book_replace_side(book_t *self, book_side_t side, const book_level_t *levels, size_t count);

/* Where a side stops being complete. Binance's snapshot holds only the best levels of a side;
   the levels beyond its worst one stay unknown until they change, so a level learned later out
   there may sit after levels the book never heard of. book_limit_side marks the side as complete
   only down to its worst level now (a snapshot cut at its depth); trimming a full side moves that
   limit inward to the level left worst. book_clear and book_replace_side lift it (the latter
   sets it again when it keeps fewer levels than it was given). Levels beyond the limit are still
   held and exact in themselves; only the completeness stops there. */
void book_limit_side(book_t *self, book_side_t side);
bool book_side_limited(const book_t *self, book_side_t side);

/* True, with the price, when the side is complete only down to *price (inclusive). */
bool book_complete_to(const book_t *self, book_side_t side, dec_t *price);

/* Levels from the best down to where the side is complete (all of them when it is). */
size_t book_complete_depth(const book_t *self, book_side_t side);

/* Levels on side. */
size_t book_depth(const book_t *self, book_side_t side);

/* The i-th best level of side (0 = best); NULL when i >= book_depth. */
const book_level_t *book_level(const book_t *self, book_side_t side, size_t i);

/* The quantity at price on side, or 0 when the book holds no such level. */
dec_t book_qty_at(const book_t *self, book_side_t side, dec_t price);

/* True when both sides are non-empty and the best bid >= the best ask. */
bool book_crossed(const book_t *self);

/* The price of the worst level the last book_set pushed out of a full side to make room for a
   better one (its result was then BOOK_INSERTED); 0 when it pushed none out. */
dec_t book_dropped(const book_t *self);

/* Levels dropped by the bound since the book was created: worst levels pushed out, new levels
   refused by book_set, and snapshot levels beyond max_levels. */
uint64_t book_trimmed(const book_t *self);

/* Bytes this book holds on the heap (the struct and both sides' capacity). */
size_t book_memory_bytes(const book_t *self);

/* The bound given to book_new. */
size_t book_max_levels(const book_t *self);

#endif
