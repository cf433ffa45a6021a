/*
 * snapshots.h — the snapshot service for late joiners (the zguide's Clone pattern).
 *
 * A subscriber that joins the data bus late subscribes to book.<market>.<SYMBOL> first, then asks
 * this service for the book. The answer carries `seq`, the seq of the last book message already
 * applied to it; the subscriber drops the messages it received with seq <= that and applies the
 * rest. Answers are built in the same thread that publishes, between two frames, so the book and
 * its seq always match. docs/topics.md has the protocol and a worked example.
 *
 * Requests are one JSON object (on a ROUTER socket; clients use REQ or DEALER):
 *   {"op":"book","market":"spot","symbol":"BTCUSDT","depth":100}   depth optional, 0 = all
 *   {"op":"list"}
 * This module turns a request into its answer; main.c moves the bytes.
 */
#ifndef BOOKCAST_SNAPSHOTS_H
#define BOOKCAST_SNAPSHOTS_H

#include "builder.h"
#include "jbuf.h"

#include <stddef.h>

/* Writes the answer to the request (len bytes, borrowed) into out. A malformed or unknown
   request gets {"error":"…"} so the client is never left waiting. */
void snapshots_answer(const builder_t *builder, const char *request, size_t len, jbuf_t *out);

#endif
