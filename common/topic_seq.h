/*
 * topic_seq.h — per-topic sequence numbers for everything bookcast publishes.
 *
 * Each topic ("book.spot.BTCUSDT") has its own counter that starts at 1 and grows by one per
 * message, so a subscriber that sees seq jump from 41 to 43 on a topic knows it lost exactly one
 * message of that topic, whatever else it subscribes to.
 */
#ifndef BOOKCAST_TOPIC_SEQ_H
#define BOOKCAST_TOPIC_SEQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct topic_seq_t topic_seq_t;

/* New, empty set of counters. NULL when out of memory. */
topic_seq_t *topic_seq_new(void);
void topic_seq_destroy(topic_seq_t **self_p);

/* Returns the next sequence number of `topic` (1 for its first message), or 0 when out of
   memory. The topic is copied on first use. */
uint64_t topic_seq_next(topic_seq_t *self, const char *topic);

/* The last number handed out for `topic`, or 0 when it has none yet. */
uint64_t topic_seq_last(const topic_seq_t *self, const char *topic);

/* Number of topics seen. */
size_t topic_seq_count(const topic_seq_t *self);

#endif
