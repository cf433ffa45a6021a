/*
 * history.c — an undo journal of one symbol's book (see history.h).
 *
 * A ring of changes, each tagged with the last_id of the update it belongs to; an update's
 * changes are adjacent. Forgetting always drops whole updates, so "every update newer than X is
 * still here" is exactly "X >= the last_id of the newest update forgotten". Rebuilding the book
 * at X copies the current book and walks the ring from the newest change back, setting each
 * level to its prev_qty until it reaches an update at or before X: O(levels + changes undone).
 */
#include "history.h"

#include <stdlib.h>

typedef struct {
    uint64_t last_id;
    dec_t price;
    dec_t prev_qty;
    sim_side_t side;
} entry_t;

struct sim_history_t {
    entry_t *ring;
    size_t capacity; /* a power of two: indexes wrap with a mask, not a division */
    size_t head;  /* index of the oldest entry */
    size_t count; /* entries held */
    uint64_t forgotten_id;
    uint64_t newest_id;
};

sim_history_t *sim_history_new(size_t capacity, uint64_t start_id)
{
    size_t pow2 = SIM_UPDATE_MAX_CHANGES;
    while (pow2 < capacity && pow2 < ((size_t)1 << 40))
        pow2 <<= 1;
    capacity = pow2;
    sim_history_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->ring = calloc(capacity, sizeof *self->ring);
    if (!self->ring) {
        free(self);
        return NULL;
    }
    self->capacity = capacity;
    self->forgotten_id = start_id;
    self->newest_id = start_id;
    return self;
}

void sim_history_destroy(sim_history_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->ring);
    free(*self_p);
    *self_p = NULL;
}

static entry_t *entry_at(const sim_history_t *self, size_t i)
{
    return &self->ring[(self->head + i) & (self->capacity - 1)];
}

/* Drops the oldest whole update. */
static void forget_oldest(sim_history_t *self)
{
    uint64_t id = entry_at(self, 0)->last_id;
    while (self->count && entry_at(self, 0)->last_id == id) {
        self->head = (self->head + 1) & (self->capacity - 1);
        self->count--;
    }
    self->forgotten_id = id;
}

void sim_history_record(sim_history_t *self, const sim_update_t *u)
{
    size_t n = u->change_count < SIM_UPDATE_MAX_CHANGES ? u->change_count : SIM_UPDATE_MAX_CHANGES;
    while (self->capacity - self->count < n)
        forget_oldest(self);
    for (size_t i = 0; i < n; i++) {
        entry_t *e = entry_at(self, self->count++);
        e->last_id = u->last_id;
        e->side = u->changes[i].side;
        e->price = u->changes[i].price;
        e->prev_qty = u->changes[i].prev_qty;
    }
    self->newest_id = u->last_id;
}

uint64_t sim_history_oldest_id(const sim_history_t *self)
{
    return self->forgotten_id;
}

uint64_t sim_history_newest_id(const sim_history_t *self)
{
    return self->newest_id;
}

uint64_t sim_history_id_back(const sim_history_t *self, size_t back)
{
    uint64_t id = self->newest_id;
    size_t i = self->count;
    while (back > 0 && i > 0) {
        uint64_t this_id = entry_at(self, i - 1)->last_id;
        while (i > 0 && entry_at(self, i - 1)->last_id == this_id)
            i--;
        id = i > 0 ? entry_at(self, i - 1)->last_id : self->forgotten_id;
        back--;
    }
    return id;
}

sim_book_t *sim_history_book_at(const sim_history_t *self, const sim_book_t *now,
                                uint64_t update_id)
{
    if (update_id < self->forgotten_id || update_id > self->newest_id)
        return NULL;
    sim_book_t *book = sim_book_dup(now);
    if (!book)
        return NULL;
    for (size_t i = self->count; i > 0; i--) {
        const entry_t *e = entry_at(self, i - 1);
        if (e->last_id <= update_id)
            break;
        if (sim_book_set(book, e->side, e->price, e->prev_qty, NULL) != 0) {
            sim_book_destroy(&book);
            return NULL;
        }
    }
    return book;
}
