/*
 * tc_check.h — comparing the local book with the sim's truth, level by level, exactly.
 *
 * A check is taken in two steps because the truth arrives later than the question: when the
 * request for /_sim/book?update_id=<id> leaves, the local book's top levels are copied (it keeps
 * changing meanwhile); when the answer comes, the copy is compared with it.
 *
 * What is compared: the best K levels of each side, but only prices within the range the
 * snapshot vouches for (tc_book.h): beyond a full snapshot's worst price the local book cannot
 * know every level, and the truth has them all. Within that range every price and quantity must
 * be equal as dec_t values, and neither side may have a level the other lacks.
 */
#ifndef BOOKCAST_TC_CHECK_H
#define BOOKCAST_TC_CHECK_H

#include "tc_book.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The local book as it was when a check was asked. */
typedef struct {
    uint64_t update_id;
    tc_side_t bids; /* the best K in-range levels, and the side's range */
    tc_side_t asks;
} tc_check_view_t;

/* Copies the best `k` in-range levels of each side of `book`, valid at `update_id`. Returns 0,
   or -1 when out of memory. Free with tc_check_view_free. */
int tc_check_capture(const tc_book_t *book, uint64_t update_id, size_t k, tc_check_view_t *view);
void tc_check_view_free(tc_check_view_t *view);

typedef struct {
    bool equal;
    size_t bids_compared; /* levels found equal before the end or the first difference */
    size_t asks_compared;
    char difference[320]; /* when !equal: the first difference, e.g. "bids[3] price …" */
} tc_check_result_t;

/* Compares the captured view with the truth's sides (best first) over at most `k` levels. */
void tc_check_compare(const tc_check_view_t *view, const tc_levels_t *truth_bids,
                      const tc_levels_t *truth_asks, size_t k, tc_check_result_t *result);

#endif
