/*
 * replay.c — recorded frames through the live data path. See replay.h.
 *
 * The builder's timers are driven the way the live loop drives them: a tick whenever the clock
 * passes the deadline the previous tick returned, before the frame that moved the clock.
 */
#include "replay.h"

#include "envelope.h"
#include "framefile.h"

#include <string.h>

int replay_file(builder_t *builder, const char *path, replay_stats_t *stats, char *err,
                size_t err_len)
{
    memset(stats, 0, sizeof *stats);
    framefile_reader_t *r = framefile_reader_open(path, err, err_len);
    if (!r)
        return -1;
    int64_t clock_ns = 0, next_tick_ns = 0;
    int rc = 0;
    for (;;) {
        const void *frame;
        size_t len;
        int got = framefile_reader_next(r, &frame, &len, err, err_len);
        if (got == 0)
            break;
        if (got < 0) {
            rc = -1;
            break;
        }
        stats->frames++;
        envelope_header_t h;
        const void *payload;
        size_t plen;
        if (envelope_decode(frame, len, &h, &payload, &plen, NULL, 0) == 0) {
            if (h.recv_ts_ns > clock_ns)
                clock_ns = h.recv_ts_ns;
        } else {
            stats->bad_frames++;
        }
        if (stats->first_ns == 0)
            stats->first_ns = clock_ns;
        if (clock_ns >= next_tick_ns)
            next_tick_ns = clock_ns + builder_tick(builder, clock_ns) * 1000000;
        builder_on_frame(builder, frame, len, clock_ns);
    }
    stats->last_ns = clock_ns;
    framefile_reader_destroy(&r);
    return rc;
}
