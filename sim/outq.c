/*
 * outq.c — see outq.h. The queue is a growable ring of message pointers: pushing and popping are
 * O(1) without an allocation per message, and a queue that grew for a burst keeps its capacity.
 */
#include "outq.h"

#include <stdlib.h>
#include <string.h>

sim_msg_t *sim_msg_new(const void *data, size_t len)
{
    if (len > UINT32_MAX - SIM_MSG_HEADROOM)
        return NULL;
    sim_msg_t *msg = malloc(sizeof *msg + SIM_MSG_HEADROOM + len);
    if (!msg)
        return NULL;
    msg->refs = 1;
    msg->len = (uint32_t)len;
    if (data && len)
        memcpy(sim_msg_data(msg), data, len);
    return msg;
}

void sim_msg_ref(sim_msg_t *msg)
{
    msg->refs++;
}

void sim_msg_unref(sim_msg_t **msg_p)
{
    if (!msg_p || !*msg_p)
        return;
    if (--(*msg_p)->refs == 0)
        free(*msg_p);
    *msg_p = NULL;
}

struct sim_outq_t {
    sim_msg_t **ring;
    size_t capacity; /* power of two, or 0 */
    size_t head;     /* index of the oldest */
    size_t count;
    size_t bytes;
};

sim_outq_t *sim_outq_new(void)
{
    return calloc(1, sizeof(sim_outq_t));
}

void sim_outq_destroy(sim_outq_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_outq_t *self = *self_p;
    while (self->count)
        sim_outq_pop(self);
    free(self->ring);
    free(self);
    *self_p = NULL;
}

static int grow(sim_outq_t *self)
{
    size_t capacity = self->capacity ? self->capacity * 2 : 64;
    sim_msg_t **ring = malloc(capacity * sizeof *ring);
    if (!ring)
        return -1;
    for (size_t i = 0; i < self->count; i++)
        ring[i] = self->ring[(self->head + i) & (self->capacity - 1)];
    free(self->ring);
    self->ring = ring;
    self->capacity = capacity;
    self->head = 0;
    return 0;
}

int sim_outq_push(sim_outq_t *self, sim_msg_t *msg)
{
    if (self->count == self->capacity && grow(self) != 0)
        return -1;
    sim_msg_ref(msg);
    self->ring[(self->head + self->count) & (self->capacity - 1)] = msg;
    self->count++;
    self->bytes += msg->len;
    return 0;
}

sim_msg_t *sim_outq_peek(const sim_outq_t *self)
{
    return self->count ? self->ring[self->head] : NULL;
}

void sim_outq_pop(sim_outq_t *self)
{
    if (!self->count)
        return;
    sim_msg_t *msg = self->ring[self->head];
    self->bytes -= msg->len;
    sim_msg_unref(&msg);
    self->head = (self->head + 1) & (self->capacity - 1);
    self->count--;
}

size_t sim_outq_count(const sim_outq_t *self)
{
    return self->count;
}

size_t sim_outq_bytes(const sim_outq_t *self)
{
    return self->bytes;
}
