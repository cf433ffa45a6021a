/*
 * real_book.h — an order book of strings for the real-data replay tests, kept apart from the
 * bookbuilder's code on purpose.
 *
 * The test rebuilds each book from the messages the bookbuilder publishes and compares the
 * result with the bookbuilder's own book; a second book built with the bookbuilder's modules
 * would share their mistakes. So this one reads decimals itself (real_dec) and keeps every level
 * as the two strings it was published with, ordered by the exact value of the price.
 *
 * A side is an array with the best level at the end (bids ascending, asks descending): almost
 * every update touches the top, which then moves only the few levels above it.
 */
#ifndef BOOKCAST_REAL_BOOK_H
#define BOOKCAST_REAL_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest decimal string kept, NUL included. */
#define REAL_DEC_STRLEN 24

typedef enum {
    REAL_BID = 0,
    REAL_ASK = 1,
} real_side_t;

typedef struct {
    int64_t price_units; /* the price in 10^-8 units, the sort key */
    char price[REAL_DEC_STRLEN];
    char qty[REAL_DEC_STRLEN];
} real_level_t;

typedef struct {
    real_level_t *levels[2]; /* per side, worst first */
    size_t count[2];
    size_t cap[2];
} real_book_t;

/* Reads a decimal as Binance writes it, digits with an optional '.' and 1 to 8 fractional
   digits, into 10^-8 units. Returns 0, or -1 for anything else (a sign, an exponent, a 9th
   fractional digit, a value beyond int64). */
int real_dec(const char *s, int64_t *units);

/* Sets price's level on side to qty, both copied; a qty of zero value removes the level, and
   removing a level the book does not hold changes nothing. Returns 0, or -1 for a string that
   is not a decimal, too long to keep, a price of 0, or no memory. */
int real_book_set(real_book_t *b, real_side_t side, const char *price, const char *qty);

/* Empties both sides (keeping their memory). */
void real_book_clear(real_book_t *b);

/* Loading a whole side at once (a snapshot message), in any order: real_book_append adds a level
   without ordering, real_book_sort_side orders the side afterwards. Both return 0, or -1 for a
   bad string, no memory, or (sort) a price given twice. */
int real_book_append(real_book_t *b, real_side_t side, const char *price, const char *qty);
int real_book_sort_side(real_book_t *b, real_side_t side);

/* Levels on side, and the i-th best (0 = best; NULL beyond the last). */
size_t real_book_depth(const real_book_t *b, real_side_t side);
const real_level_t *real_book_level(const real_book_t *b, real_side_t side, size_t i);

/* True when both sides hold levels and the best bid is not below the best ask. */
bool real_book_crossed(const real_book_t *b);

void real_book_free(real_book_t *b);

#endif
