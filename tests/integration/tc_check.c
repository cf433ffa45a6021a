/*
 * tc_check.c — the local book against the truth; see tc_check.h for what is compared and why.
 */
#include "tc_check.h"

#include <stdio.h>
#include <string.h>

static int capture_side(const tc_side_t *side, size_t k, tc_side_t *copy)
{
    copy->is_bids = side->is_bids;
    copy->bounded = side->bounded;
    copy->worst = side->worst;
    for (size_t i = 0; i < side->levels.n && i < k; i++) {
        const tc_level_t *level = &side->levels.v[i];
        if (!tc_side_in_range(side, level->price))
            break;
        if (tc_levels_push(&copy->levels, level->price, level->qty) != 0)
            return -1;
    }
    return 0;
}

int tc_check_capture(const tc_book_t *book, uint64_t update_id, size_t k, tc_check_view_t *view)
{
    memset(view, 0, sizeof *view);
    view->update_id = update_id;
    if (capture_side(&book->bids, k, &view->bids) != 0 ||
        capture_side(&book->asks, k, &view->asks) != 0) {
        tc_check_view_free(view);
        return -1;
    }
    return 0;
}

void tc_check_view_free(tc_check_view_t *view)
{
    tc_levels_free(&view->bids.levels);
    tc_levels_free(&view->asks.levels);
}

static void describe(const tc_level_t *level, char *buf, size_t len)
{
    if (level == NULL) {
        snprintf(buf, len, "none");
        return;
    }
    char price[DEC_STRLEN], qty[DEC_STRLEN];
    dec_format(level->price, price);
    dec_format(level->qty, qty);
    snprintf(buf, len, "%s x %s", price, qty);
}

/* Compares one side; returns the number of equal levels, or fills `difference` and returns
   SIZE_MAX at the first difference. */
static size_t compare_side(const tc_side_t *local, const tc_levels_t *truth, size_t k,
                           const char *name, char *difference, size_t difference_len)
{
    for (size_t i = 0; i < k; i++) {
        const tc_level_t *mine = i < local->levels.n ? &local->levels.v[i] : NULL;
        const tc_level_t *theirs =
            i < truth->n && tc_side_in_range(local, truth->v[i].price) ? &truth->v[i] : NULL;
        if (mine == NULL && theirs == NULL)
            return i;
        if (mine != NULL && theirs != NULL && dec_cmp(mine->price, theirs->price) == 0 &&
            dec_cmp(mine->qty, theirs->qty) == 0)
            continue;
        char mine_text[64], theirs_text[64];
        describe(mine, mine_text, sizeof mine_text);
        describe(theirs, theirs_text, sizeof theirs_text);
        snprintf(difference, difference_len, "%s[%zu] local %s, truth %s", name, i, mine_text,
                 theirs_text);
        return SIZE_MAX;
    }
    return k;
}

void tc_check_compare(const tc_check_view_t *view, const tc_levels_t *truth_bids,
                      const tc_levels_t *truth_asks, size_t k, tc_check_result_t *result)
{
    memset(result, 0, sizeof *result);
    size_t bids = compare_side(&view->bids, truth_bids, k, "bids", result->difference,
                               sizeof result->difference);
    if (bids == SIZE_MAX)
        return;
    size_t asks = compare_side(&view->asks, truth_asks, k, "asks", result->difference,
                               sizeof result->difference);
    if (asks == SIZE_MAX)
        return;
    result->equal = true;
    result->bids_compared = bids;
    result->asks_compared = asks;
}
