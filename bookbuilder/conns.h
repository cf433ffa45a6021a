/*
 * conns.h — the collectors' connections, as their frames describe them.
 *
 * Every frame carries (instance_id, conn_id, seq) (docs/frames.md, "Instances, connections and
 * sequences"): a collector draws a new instance_id when it starts, numbers its WebSocket
 * connections from 1 (0 for snapshots and overflow reports), and counts each connection's frames
 * from 1 without gaps. What the bookbuilder must learn from them:
 *   - a new instance for a market: the old collector is gone, whatever it fed is interrupted;
 *   - a gap in a connection's seq: frames were lost on the way, so every stream on that
 *     connection (or, on connection 0, every snapshot answer) may have lost data;
 *   - a seq already seen: the same frame twice, to be dropped.
 * The update ids of the exchange would reveal most of these later; the frame numbers reveal them
 * at once, and also reveal lost snapshot answers, which update ids cannot.
 *
 * A conns_t keeps, per market, the current instance and, per live connection, its last seq and
 * the streams its CONN_UP named. A handful of connections per market is the normal case, so a
 * connection is found by a short linear search.
 */
#ifndef BOOKCAST_CONNS_H
#define BOOKCAST_CONNS_H

#include "envelope.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    CONNS_IN_ORDER,     /* the next frame of its connection, or the first one seen of it */
    CONNS_NEW_INSTANCE, /* the first frame of a new collector instance for a market that had one */
    CONNS_GAP,          /* frames of this connection were lost before this one */
    CONNS_REPEAT,       /* a seq at or before the last one seen: a frame delivered again */
} conns_verdict_t;

typedef struct conns_t conns_t;

conns_t *conns_new(void);
void conns_destroy(conns_t **self_p);

/* Records the frame's (instance, conn, seq) and says what it reveals. After CONNS_NEW_INSTANCE
   the market's connections of the old instance are forgotten; after CONNS_GAP the connection
   continues from this frame. */
conns_verdict_t conns_note(conns_t *self, const envelope_header_t *h);

/* Remembers the streams a connection carries (its CONN_UP's list; copied). -1 when out of
   memory (the streams are then unknown). */
int conns_set_streams(conns_t *self, market_t market, uint32_t conn_id, const char *const *streams,
                      size_t count);

/* The streams of a live connection, or NULL (count 0) when its CONN_UP was not seen. */
const char *const *conns_streams(const conns_t *self, market_t market, uint32_t conn_id,
                                 size_t *count);

/* Forgets a connection (after its CONN_DOWN). */
void conns_forget(conns_t *self, market_t market, uint32_t conn_id);

#endif
