/*
 * capture.h — real Binance captures (from other projects' recorders) as frame files, so that
 * tests can replay real exchange data through the bookbuilder exactly as a recording of our own
 * collector would be replayed. tests/data/binance-real-data/README.md describes the inputs.
 *
 * The output is what a collector would have sent for that data: WS_TEXT frames on connection 1,
 * announced by a CONN_UP that lists the connection's streams, and SNAPSHOT frames for the REST
 * bodies. instance_id is given, not drawn, so converting a capture twice gives the same bytes.
 *
 * Every input line that does not fit its format is an error naming the file and the line: a
 * test should never run on a silently shortened capture. Converters write to "<out>.tmp" and
 * rename it to out only on success, so a failed conversion never leaves a plausible-looking
 * file behind ("-" writes stdout directly).
 */
#ifndef BOOKCAST_CAPTURE_H
#define BOOKCAST_CAPTURE_H

#include "envelope.h"

#include <stddef.h>
#include <stdint.h>

/* The URL of every CONN_UP the converters write: the capture's own URL is not one a replay
   could connect to, and this one says so. */
#define CAPTURE_CONN_UP_URL "wss://capture.invalid/stream"

typedef struct {
    market_t market;      /* the collector the frames pretend to come from */
    uint64_t instance_id; /* nonzero */
    const char *symbol;   /* hftbacktest: the symbol of the snapshot lines, [A-Z0-9_]{1,32};
                             unused by cryptofeed, whose snapshot URLs name theirs */
} capture_options_t;

/* What a frame file holds, by kind. */
typedef struct {
    uint64_t frames;
    uint64_t bytes;                          /* of the file, length prefixes included */
    uint64_t by_kind[ENVELOPE_OVERFLOW + 1]; /* indexed by envelope_kind_t; [0] unused */
} capture_counts_t;

/* Converts hftbacktest text (decompressed; "-" = stdin) at in_path into a frame file at
   out_path ("-" = stdout). Each line is "<receive ns> <payload>": a combined-stream frame becomes
   a WS_TEXT frame (conn 1, seq from 2, after a CONN_UP listing every distinct "stream" of the
   input, in the order of first appearance), a body starting {"lastUpdateId" a SNAPSHOT frame of
   opt->symbol. Returns 0 with counts filled (when not NULL), or -1 with the reason in err. */
int capture_hftbacktest(const capture_options_t *opt, const char *in_path, const char *out_path,
                        capture_counts_t *counts, char *err, size_t err_len);

/* Converts a cryptofeed pair: the WebSocket capture at ws_path ("<url> <-> <connect time>",
   then "<seconds>: <frame>" lines) and the REST capture at http_path ("<url> -> <seconds>:
   <body>" lines, the symbol in the url's symbol=) merged by time into a frame file at out_path.
   On equal times the WebSocket frame comes first. The CONN_UP, at the connect time, lists the
   url's streams= parameter. opt->symbol is not used. Returns 0 or -1 with the reason in err. */
int capture_cryptofeed(const capture_options_t *opt, const char *ws_path, const char *http_path,
                       const char *out_path, capture_counts_t *counts, char *err, size_t err_len);

/* Reads the frame file at path ("-" = stdin) and counts its frames by kind. Every frame must
   decode, every control payload must parse, and each (instance_id, conn_id) must count its
   seq from 1 without gaps, starting with CONN_UP on a connection: what the converters promise.
   Returns 0, or -1 with the reason in err (the offset of the offending record); counts holds
   what was read up to there. */
int capture_check(const char *path, capture_counts_t *counts, char *err, size_t err_len);

#endif
