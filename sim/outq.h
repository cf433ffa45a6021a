/*
 * outq.h — messages on their way to one WebSocket client.
 *
 * A stream event is rendered once and sent to every connection subscribed to it, so messages are
 * reference counted: each connection's queue holds a reference, and the bytes are freed when the
 * last connection has written them. Every message keeps LWS_PRE bytes of headroom before its
 * data, where libwebsockets writes the frame header; server frames are not masked, so the data
 * itself is never modified and sharing is safe.
 */
#ifndef BOOKCAST_SIM_OUTQ_H
#define BOOKCAST_SIM_OUTQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t refs;
    uint32_t len;
    unsigned char bytes[]; /* SIM_MSG_HEADROOM bytes, then len bytes of data */
} sim_msg_t;

/* Matches LWS_PRE of the libwebsockets build (checked in server.c). */
#define SIM_MSG_HEADROOM 16

/* A message of `len` bytes copied from `data` (data may be NULL: the caller fills
   sim_msg_data()). One reference, owned by the caller. NULL when out of memory. */
sim_msg_t *sim_msg_new(const void *data, size_t len);
static inline unsigned char *sim_msg_data(sim_msg_t *msg)
{
    return msg->bytes + SIM_MSG_HEADROOM;
}
void sim_msg_ref(sim_msg_t *msg);
/* Drops one reference; frees the message with the last one. Nulls the caller's pointer. */
void sim_msg_unref(sim_msg_t **msg_p);

typedef struct sim_outq_t sim_outq_t;

sim_outq_t *sim_outq_new(void);
/* Drops every queued reference. */
void sim_outq_destroy(sim_outq_t **self_p);

/* Appends `msg` (taking a new reference). Returns 0, or -1 when out of memory. */
int sim_outq_push(sim_outq_t *self, sim_msg_t *msg);
/* The oldest message, still queued; NULL when empty. */
sim_msg_t *sim_outq_peek(const sim_outq_t *self);
/* Removes the oldest message and drops the queue's reference to it. */
void sim_outq_pop(sim_outq_t *self);

size_t sim_outq_count(const sim_outq_t *self);
/* Bytes of data queued (without headroom): what a slow client has not yet taken. */
size_t sim_outq_bytes(const sim_outq_t *self);

#endif
