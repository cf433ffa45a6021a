/*
 * tc_book.c — the local order book; see tc_book.h for the structure and why.
 */
#include "tc_book.h"

#include <stdlib.h>
#include <string.h>

int tc_levels_push(tc_levels_t *list, dec_t price, dec_t qty)
{
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        tc_level_t *grown = realloc(list->v, cap * sizeof *grown);
        if (grown == NULL)
            return -1;
        list->v = grown;
        list->cap = cap;
    }
    list->v[list->n].price = price;
    list->v[list->n].qty = qty;
    list->n++;
    return 0;
}

void tc_levels_free(tc_levels_t *list)
{
    free(list->v);
    list->v = NULL;
    list->n = list->cap = 0;
}

void tc_book_init(tc_book_t *book)
{
    memset(book, 0, sizeof *book);
    book->bids.is_bids = true;
    book->asks.is_bids = false;
}

void tc_book_clear(tc_book_t *book)
{
    book->bids.levels.n = 0;
    book->asks.levels.n = 0;
    book->bids.bounded = book->asks.bounded = false;
}

void tc_book_free(tc_book_t *book)
{
    tc_levels_free(&book->bids.levels);
    tc_levels_free(&book->asks.levels);
    tc_book_init(book);
}

bool tc_side_better(const tc_side_t *side, dec_t a, dec_t b)
{
    int cmp = dec_cmp(a, b);
    return side->is_bids ? cmp > 0 : cmp < 0;
}

bool tc_side_in_range(const tc_side_t *side, dec_t price)
{
    return !side->bounded || !tc_side_better(side, side->worst, price);
}

/* Index of the first level not better than `price`: where `price` is or would be inserted. */
static size_t find_slot(const tc_side_t *side, dec_t price)
{
    size_t lo = 0, hi = side->levels.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tc_side_better(side, side->levels.v[mid].price, price))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int tc_side_set(tc_side_t *side, dec_t price, dec_t qty)
{
    tc_levels_t *list = &side->levels;
    size_t i = find_slot(side, price);
    bool present = i < list->n && dec_cmp(list->v[i].price, price) == 0;
    if (dec_is_zero(qty)) {
        if (present) {
            memmove(&list->v[i], &list->v[i + 1], (list->n - i - 1) * sizeof list->v[0]);
            list->n--;
        }
        return 0;
    }
    if (present) {
        list->v[i].qty = qty;
        return 0;
    }
    if (tc_levels_push(list, price, qty) != 0) /* grows by one; the new slot is overwritten */
        return -1;
    memmove(&list->v[i + 1], &list->v[i], (list->n - 1 - i) * sizeof list->v[0]);
    list->v[i].price = price;
    list->v[i].qty = qty;
    return 0;
}
