/*
 * control.h — what the bookbuilder (or an operator) asks of a collector on the control bus.
 *
 * The bookbuilder binds PUB on bus.control; every collector connects SUB and subscribes to the
 * topics of its market. A message is two frames, topic and JSON body (docs/collector.md):
 *   snapshot.<market>     {"symbol":"BTCUSDT","limit":1000,"request_id":17}
 *   subscribe.<market>    {"symbols":["SOLUSDT"]} (the market's configured channels) and/or
 *                         {"streams":["solusdt@kline_5m"]} (exact stream names)
 *   unsubscribe.<market>  the same keys
 * Parsing is strict about what it needs and tolerant of keys it does not know, like the envelope.
 */
#ifndef BOOKCAST_COLLECTOR_CONTROL_H
#define BOOKCAST_COLLECTOR_CONTROL_H

#include "envelope.h"

#include <stddef.h>
#include <stdint.h>

#define CONTROL_NAMES_MAX 4096 /* symbols or streams in one message */

typedef enum {
    CONTROL_SNAPSHOT = 1,
    CONTROL_SUBSCRIBE,
    CONTROL_UNSUBSCRIBE,
} control_kind_t;

typedef struct {
    control_kind_t kind;
    /* snapshot */
    char symbol[ENVELOPE_SYMBOL_MAX + 1];
    unsigned limit;
    uint64_t request_id;
    /* subscribe, unsubscribe */
    char **symbols; /* upper case */
    size_t symbol_count;
    char **streams;
    size_t stream_count;
} control_msg_t;

/* The topic prefixes a collector of `market` subscribes to, in order (NULL-terminated, static
   strings written into `buf`, which must hold 3 × 32 bytes). */
const char *const *control_topics(market_t market, char buf[3][32]);

/* Parses one message. Returns 0 with *out filled (release with control_msg_clear), 1 when the
   topic is not for `market` (ignore it), or -1 with the reason in err: unknown topic, malformed
   JSON, a missing or invalid field (symbol [A-Z0-9_]{1,32} in any case, a limit the market's
   depth endpoint does not accept, request_id 0, a stream name with characters no stream has). */
int control_parse(market_t market, const char *topic, const void *body, size_t len,
                  control_msg_t *out, char *err, size_t err_len);

void control_msg_clear(control_msg_t *msg);

/* True when the market's depth endpoint accepts `limit` (spot 1..5000; futures 5, 10, 20, 50,
   100, 500, 1000). */
int control_limit_valid(market_t market, unsigned limit);

#endif
