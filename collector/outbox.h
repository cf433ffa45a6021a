/*
 * outbox.h — the bounded queue between the WebSocket service loop and the PUSH socket.
 *
 * Every frame for the bookbuilder goes through here, so that sending never blocks the loop: the
 * loop queues, and flushes as much as the socket takes without waiting (ZMQ_DONTWAIT). When the
 * bookbuilder is absent or slow the queue grows to its bound; past it, frames are thrown away,
 * but never silently: each drop is counted against the stream it belonged to, and once there is
 * room again the owner takes the losses and queues an OVERFLOW frame naming those streams, so
 * their books resync. From the first drop until that OVERFLOW is queued every data frame is
 * dropped, so no data ever follows a hole the bookbuilder has not been told about. A frame is
 * queued whole or not at all.
 */
#ifndef BOOKCAST_COLLECTOR_OUTBOX_H
#define BOOKCAST_COLLECTOR_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct outbox_t outbox_t;

/* Sends one frame without blocking. Returns 0 when sent, 1 when the socket would block (try
   later), -1 on another error (the frame is dropped and counted). */
typedef int (*outbox_send_fn)(void *arg, const void *data, size_t len);

/* A queue of at most max_bytes bytes of frames (at least one frame always fits). */
outbox_t *outbox_new(size_t max_bytes);
void outbox_destroy(outbox_t **self_p);

/* Queues `len` bytes copied from `data`. `stream` names the exchange stream the frame carries
   (NULL when it is not a stream's data); it is what an OVERFLOW names if the frame is dropped.
   Returns 0, or -1 when the frame was dropped (queue full, or out of memory). */
int outbox_push(outbox_t *self, const void *data, size_t len, const char *stream);

/* Queues a frame that is never dropped for lack of room: connection up/down and OVERFLOW frames,
   small and rare, which tell the bookbuilder what the data frames cannot. -1 only out of
   memory. */
int outbox_push_always(outbox_t *self, const void *data, size_t len);

/* Counts one message lost before it became a frame (a message over the size limit, a frame
   that could not be encoded), as one dropped frame of which any of `streams` may have lost
   data. */
void outbox_note_loss(outbox_t *self, const char *const *streams, size_t count);

/* Sends queued frames in order until `send` would block or the queue is empty. Returns how many
   were sent. */
size_t outbox_flush(outbox_t *self, outbox_send_fn send, void *arg);

/* True when frames were dropped since the last take and the queue has room again (below half
   its bound): time to send an OVERFLOW. */
bool outbox_losses_pending(const outbox_t *self);

/* Hands over the losses since the last take: the distinct stream names (a malloc'd array of
   malloc'd strings, *count of them; free with outbox_free_streams) and the frames dropped. */
void outbox_take_losses(outbox_t *self, char ***streams, size_t *count, uint64_t *frames_dropped);
void outbox_free_streams(char **streams, size_t count);

size_t outbox_frames(const outbox_t *self);    /* queued */
size_t outbox_bytes(const outbox_t *self);     /* queued */
uint64_t outbox_dropped(const outbox_t *self); /* since start */
uint64_t outbox_sent(const outbox_t *self);    /* since start */
uint64_t outbox_send_errors(const outbox_t *self);

#endif
