/*
 * history.h — the recent past of one symbol's true book, kept as an undo journal.
 *
 * Every engine update is recorded as the changes it made with the quantities they replaced
 * (sim_change_t.prev_qty). Undoing the newest updates from the book as it is now gives the book
 * as it was after any update id still covered by the journal. Two users: the truth endpoint
 * (GET /_sim/book?update_id=N) for the symbols a test checks, with a long journal, and the
 * "stale snapshot" fault, which serves a REST snapshot from the past, with a short one.
 *
 * The journal is a ring of changes with a fixed capacity chosen at creation; when full, the
 * oldest whole updates are forgotten. Nothing allocates after sim_history_new except
 * sim_history_book_at, which returns a new book. Not thread-safe; one owner.
 */
#ifndef BOOKCAST_SIM_HISTORY_H
#define BOOKCAST_SIM_HISTORY_H

#include "book.h"
#include "events.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sim_history_t sim_history_t;

/* A journal holding at least `capacity` changes (rounded up to a power of two, and at least
   SIM_UPDATE_MAX_CHANGES, so one update always fits). `start_id` is the book's update id before the first update recorded. NULL when
   out of memory. */
sim_history_t *sim_history_new(size_t capacity, uint64_t start_id);
/* Frees *self_p and sets it to NULL. NULL-safe. */
void sim_history_destroy(sim_history_t **self_p);

/* Records one update, already applied to the book, forgetting the oldest updates as needed. */
void sim_history_record(sim_history_t *self, const sim_update_t *u);

/* The oldest update id the journal can rebuild the book at: the last_id of the newest update
   it forgot, or the start id when it forgot none. */
uint64_t sim_history_oldest_id(const sim_history_t *self);

/* The last_id of the newest update recorded (the start id before any). */
uint64_t sim_history_newest_id(const sim_history_t *self);

/* The id of the book `back` updates before the newest (0: the newest), or the oldest one it can
   rebuild when fewer are kept. */
uint64_t sim_history_id_back(const sim_history_t *self, size_t back);

/* The book as it was after update id `update_id`: a copy of `now` (the book after the newest
   recorded update) with every newer update undone. Ids between two updates give the book after
   the earlier one. Returns a new book (the caller destroys it), or NULL when update_id is older
   than sim_history_oldest_id or newer than sim_history_newest_id, or out of memory. */
sim_book_t *sim_history_book_at(const sim_history_t *self, const sim_book_t *now,
                                uint64_t update_id);

#endif
