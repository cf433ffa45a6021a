/*
 * replay.h — recorded frames through the live data path, with the recording's clock.
 *
 * `bookcast-bookbuilder --replay FILE` reads a frame file (common/framefile.h) and gives each
 * frame to the builder as if it had just arrived at the time the collector stamped on it; the
 * builder's timers (top-N depth, snapshot retries, the reorder window) run on that same clock.
 * Nothing else — no socket, no wall clock, no randomness — enters, so the output is a function
 * of the file: the same frames give the same bytes, which is how books are checked against the
 * simulator's truth and against real captures.
 */
#ifndef BOOKCAST_REPLAY_H
#define BOOKCAST_REPLAY_H

#include "builder.h"

#include <stdint.h>

typedef struct {
    uint64_t frames;     /* records read */
    uint64_t bad_frames; /* records whose envelope did not decode (given to the builder anyway,
                            which counts and drops them) */
    int64_t first_ns, last_ns; /* the recording's time span */
} replay_stats_t;

/* Runs every frame of the file at path ("-" = stdin) through builder. Returns 0 at the end of a
   well-formed file, -1 with the reason in err when the file cannot be read or a record is
   malformed (the frames before it have been processed). */
int replay_file(builder_t *builder, const char *path, replay_stats_t *stats, char *err,
                size_t err_len);

#endif
