/*
 * heartbeat.h — the status message every bookcast program publishes once a second.
 *
 * Topic "status.<program>.<instance>" (status.collector.spot), body JSON:
 *   {"program":"collector","instance":"spot","pid":4242,"host":"h","version":"0.1.0",
 *    "seq":17,"state":"running","ts_ns":…,"started_ns":…,"uptime_ms":16002,
 *    "log":{"lines":…,"suppressed":…,"rotations":…,"write_errors":…},
 *    "counters":{…the program's own…}}
 * sent on a PUB socket connected to bus.status, where the monitor binds SUB. A program that
 * stops cleanly sends a last message with state "stopped"; one that dies simply goes quiet,
 * which is how the monitor tells the two apart. seq counts this program's heartbeats from 1.
 */
#ifndef BOOKCAST_HEARTBEAT_H
#define BOOKCAST_HEARTBEAT_H

#include "config.h"

#include <cjson/cJSON.h>
#include <stdint.h>

typedef struct heartbeat_t heartbeat_t;

/* Adds the program's counters to `counters` (a JSON object). */
typedef void(heartbeat_fill_fn)(cJSON *counters, void *arg);

/* Connects to bus.status. `program` is the short name ("collector"), `instance` its instance
   ("spot"). `fill` may be NULL. Returns NULL with the reason in err. */
heartbeat_t *heartbeat_new(const config_t *cfg, const char *program, const char *instance,
                           heartbeat_fill_fn *fill, void *arg, char *err, size_t err_len);
void heartbeat_destroy(heartbeat_t **self_p);

/* Sends a heartbeat when one is due at monotonic time now_ms. Returns the milliseconds until the
   next one is due (a poll timeout for the caller's loop). */
int64_t heartbeat_tick(heartbeat_t *self, int64_t now_ms);

/* Sends one heartbeat now with `state` ("running", "stopped", …). Returns 0 or -1. */
int heartbeat_send(heartbeat_t *self, const char *state);

/* The topic this program publishes on. */
const char *heartbeat_topic(const heartbeat_t *self);

#endif
