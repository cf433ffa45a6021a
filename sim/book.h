/*
 * book.h — the sim's own true order book of one symbol.
 *
 * Two sides of (price, quantity) levels, each seen best first: bids by descending price, asks by
 * ascending price. Quantities are never zero inside the book (setting 0 removes the level).
 * This book is the truth the bookbuilder is checked against, so it shares no code with the
 * bookbuilder's book. Not thread-safe; one owner.
 */
#ifndef BOOKCAST_SIM_BOOK_H
#define BOOKCAST_SIM_BOOK_H

#include "decimal.h"
#include "events.h" /* sim_side_t, sim_level_t */

#include <stdbool.h>
#include <stddef.h>

typedef struct sim_book_t sim_book_t;

/* An empty book with room for `capacity` levels per side before it grows (0: a small default).
   NULL when out of memory. */
sim_book_t *sim_book_new(size_t capacity);
/* Frees *self_p and sets it to NULL. NULL-safe. */
void sim_book_destroy(sim_book_t **self_p);

/* Sets the level at `price` on `side` to `qty`: inserts it, changes it, or removes it when qty
   is 0 (removing an absent level is a no-op). Writes the quantity the level had before (0 when
   absent) to *prev_qty when prev_qty is not NULL. Returns 0, or -1 and leaves the book unchanged
   when price <= 0, qty < 0, side is not SIM_BID/SIM_ASK, or growing the side failed. Does not
   check crossing: the caller owns the book's shape (sim_book_check verifies it). */
int sim_book_set(sim_book_t *self, sim_side_t side, dec_t price, dec_t qty, dec_t *prev_qty);

/* The quantity at `price` on `side`; 0 when there is no such level. */
dec_t sim_book_get(const sim_book_t *self, sim_side_t side, dec_t price);

/* Levels on `side`. */
size_t sim_book_count(const sim_book_t *self, sim_side_t side);

/* The best level of `side` into *out; false (and *out untouched) when the side is empty. */
bool sim_book_best(const sim_book_t *self, sim_side_t side, sim_level_t *out);

/* The index-th best level of `side` (0 = best). index must be < sim_book_count(side). */
sim_level_t sim_book_level(const sim_book_t *self, sim_side_t side, size_t index);

/* Copies the best min(max, count) levels of `side`, best first, into out; returns how many. */
size_t sim_book_top(const sim_book_t *self, sim_side_t side, sim_level_t *out, size_t max);

/* 0 when both sides are strictly ordered best first, every price is positive, no quantity is
   zero or negative and the best bid is below the best ask; else -1 with the first fault in err
   (when err is not NULL), e.g. "bids not descending at index 3". */
int sim_book_check(const sim_book_t *self, char *err, size_t err_len);

/* Empties both sides (keeps the memory). */
void sim_book_clear(sim_book_t *self);

/* A new book with the same levels as `self`; NULL when out of memory. */
sim_book_t *sim_book_dup(const sim_book_t *self);

/* True when both books hold exactly the same levels with the same quantities. */
bool sim_book_equal(const sim_book_t *a, const sim_book_t *b);

#endif
