/*
 * heartbeat.c — see heartbeat.h. The PUB socket has a small high-water mark and no linger
 * beyond a moment: a status message that cannot go now is worthless a second later, and a
 * missing monitor must never hold a program back or keep it from exiting.
 */
#include "heartbeat.h"

#include "bus.h"
#include "log.h"
#include "now.h"
#include "version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEARTBEAT_SNDHWM 16
#define HEARTBEAT_LINGER_MS 200

struct heartbeat_t {
    zsock_t *pub;
    char topic[BUS_TOPIC_MAX];
    char program[32];
    char instance[64];
    char host[256];
    heartbeat_fill_fn *fill;
    void *fill_arg;
    int64_t interval_ms;
    int64_t next_due_ms;
    int64_t started_ns;
    int64_t started_mono_ms;
    uint64_t seq;
};

heartbeat_t *heartbeat_new(const config_t *cfg, const char *program, const char *instance,
                           heartbeat_fill_fn *fill, void *arg, char *err, size_t err_len)
{
    heartbeat_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    if (bus_topic(self->topic, sizeof self->topic, "status", program, instance) < 0 ||
        strlen(program) >= sizeof self->program || strlen(instance) >= sizeof self->instance) {
        snprintf(err, err_len, "invalid status topic for program \"%s\" instance \"%s\"", program,
                 instance);
        free(self);
        return NULL;
    }
    const char *endpoint = config_str(cfg, "bus.status");
    self->pub = zsock_new(ZMQ_PUB);
    if (!self->pub) {
        snprintf(err, err_len, "cannot create a ZeroMQ socket");
        free(self);
        return NULL;
    }
    zsock_set_sndhwm(self->pub, HEARTBEAT_SNDHWM);
    zsock_set_linger(self->pub, HEARTBEAT_LINGER_MS);
    if (zsock_connect(self->pub, "%s", endpoint) == -1) {
        snprintf(err, err_len, "connect %s: %s", endpoint, zmq_strerror(zmq_errno()));
        zsock_destroy(&self->pub);
        free(self);
        return NULL;
    }
    snprintf(self->program, sizeof self->program, "%s", program);
    snprintf(self->instance, sizeof self->instance, "%s", instance);
    if (gethostname(self->host, sizeof self->host) != 0)
        snprintf(self->host, sizeof self->host, "unknown");
    self->host[sizeof self->host - 1] = '\0';
    self->fill = fill;
    self->fill_arg = arg;
    self->interval_ms = config_int(cfg, "bus.status_interval_ms");
    self->started_ns = now_realtime_ns();
    self->started_mono_ms = now_monotonic_ms();
    self->next_due_ms = 0; /* the first heartbeat is due at once */
    return self;
}

void heartbeat_destroy(heartbeat_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zsock_destroy(&(*self_p)->pub);
    free(*self_p);
    *self_p = NULL;
}

const char *heartbeat_topic(const heartbeat_t *self)
{
    return self->topic;
}

static cJSON *build_message(heartbeat_t *self, const char *state)
{
    cJSON *msg = cJSON_CreateObject();
    if (!msg)
        return NULL;
    log_stats_t ls;
    log_stats(&ls);
    cJSON_AddStringToObject(msg, "program", self->program);
    cJSON_AddStringToObject(msg, "instance", self->instance);
    cJSON_AddNumberToObject(msg, "pid", (double)getpid());
    cJSON_AddStringToObject(msg, "host", self->host);
    cJSON_AddStringToObject(msg, "version", BOOKCAST_VERSION);
    cJSON_AddNumberToObject(msg, "seq", (double)self->seq);
    cJSON_AddStringToObject(msg, "state", state);
    cJSON_AddNumberToObject(msg, "ts_ns", (double)now_realtime_ns());
    cJSON_AddNumberToObject(msg, "started_ns", (double)self->started_ns);
    cJSON_AddNumberToObject(msg, "uptime_ms", (double)(now_monotonic_ms() - self->started_mono_ms));
    cJSON *log = cJSON_AddObjectToObject(msg, "log");
    if (log) {
        cJSON_AddNumberToObject(log, "lines", (double)ls.lines);
        cJSON_AddNumberToObject(log, "suppressed", (double)ls.suppressed);
        cJSON_AddNumberToObject(log, "rotations", (double)ls.rotations);
        cJSON_AddNumberToObject(log, "write_errors", (double)ls.write_errors);
    }
    cJSON *counters = cJSON_AddObjectToObject(msg, "counters");
    if (counters && self->fill)
        self->fill(counters, self->fill_arg);
    return msg;
}

int heartbeat_send(heartbeat_t *self, const char *state)
{
    self->seq++;
    cJSON *msg = build_message(self, state);
    char *body = msg ? cJSON_PrintUnformatted(msg) : NULL;
    cJSON_Delete(msg);
    if (!body) {
        log_error("status heartbeat: out of memory");
        return -1;
    }
    int rc = bus_send(self->pub, self->topic, body, strlen(body));
    free(body);
    return rc;
}

int64_t heartbeat_tick(heartbeat_t *self, int64_t now_ms)
{
    if (now_ms >= self->next_due_ms) {
        /* A full queue means no monitor is reading: nothing to report, nothing to retry. */
        (void)heartbeat_send(self, "running");
        self->next_due_ms += self->interval_ms;
        if (self->next_due_ms <= now_ms) /* after a stall, do not send a burst to catch up */
            self->next_due_ms = now_ms + self->interval_ms;
    }
    return self->next_due_ms - now_ms;
}
