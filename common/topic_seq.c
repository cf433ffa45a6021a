/*
 * topic_seq.c — an open-addressing hash table from topic string to counter.
 *
 * The bookbuilder looks a topic up for every message it publishes (tens of thousands of topics
 * for thousands of symbols), so lookups are one FNV-1a hash and, usually, one string compare.
 * Linear probing over a power-of-two table, grown at 70 % load; entries are never removed, since
 * a topic's counter must survive its symbol being unsubscribed and resubscribed (a reset would
 * look like loss to subscribers).
 */
#include "topic_seq.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *topic; /* NULL = empty slot */
    uint64_t hash;
    uint64_t seq;
} slot_t;

struct topic_seq_t {
    slot_t *slots;
    size_t capacity; /* power of two */
    size_t count;
};

#define INITIAL_CAPACITY 64

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

topic_seq_t *topic_seq_new(void)
{
    topic_seq_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->slots = calloc(INITIAL_CAPACITY, sizeof *self->slots);
    if (!self->slots) {
        free(self);
        return NULL;
    }
    self->capacity = INITIAL_CAPACITY;
    return self;
}

void topic_seq_destroy(topic_seq_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    topic_seq_t *self = *self_p;
    for (size_t i = 0; i < self->capacity; i++)
        free(self->slots[i].topic);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

static slot_t *find_slot(slot_t *slots, size_t capacity, const char *topic, uint64_t hash)
{
    size_t mask = capacity - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        slot_t *s = &slots[i];
        if (!s->topic || (s->hash == hash && strcmp(s->topic, topic) == 0))
            return s;
    }
}

static int grow(topic_seq_t *self)
{
    size_t capacity = self->capacity * 2;
    slot_t *slots = calloc(capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < self->capacity; i++) {
        slot_t *old = &self->slots[i];
        if (old->topic)
            *find_slot(slots, capacity, old->topic, old->hash) = *old;
    }
    free(self->slots);
    self->slots = slots;
    self->capacity = capacity;
    return 0;
}

uint64_t topic_seq_next(topic_seq_t *self, const char *topic)
{
    uint64_t hash = fnv1a(topic);
    slot_t *s = find_slot(self->slots, self->capacity, topic, hash);
    if (!s->topic) {
        if ((self->count + 1) * 10 > self->capacity * 7) {
            if (grow(self) != 0)
                return 0;
            s = find_slot(self->slots, self->capacity, topic, hash);
        }
        s->topic = strdup(topic);
        if (!s->topic)
            return 0;
        s->hash = hash;
        s->seq = 0;
        self->count++;
    }
    return ++s->seq;
}

uint64_t topic_seq_last(const topic_seq_t *self, const char *topic)
{
    const slot_t *s = find_slot(self->slots, self->capacity, topic, fnv1a(topic));
    return s->topic ? s->seq : 0;
}

size_t topic_seq_count(const topic_seq_t *self)
{
    return self->count;
}
