/* Unit tests of common/heartbeat: the status message a monitor receives, and its timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bus.h"
#include "config.h"
#include "heartbeat.h"
#include "now.h"
#include "signals.h"

#include <string.h>
#include <unistd.h>

typedef struct {
    zsock_t *sub;
    config_t *cfg;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    char err[256];
    f->sub = bus_bind(ZMQ_SUB, "tcp://127.0.0.1:*", err, sizeof err);
    assert_non_null(f->sub);
    zsock_set_subscribe(f->sub, "status.");
    f->cfg = config_new();
    assert_non_null(f->cfg);
    char assignment[160];
    snprintf(assignment, sizeof assignment, "bus.status=%s", zsock_endpoint(f->sub));
    assert_int_equal(config_apply_assignment(f->cfg, assignment, err, sizeof err), 0);
    assert_int_equal(config_apply_assignment(f->cfg, "bus.status_interval_ms=100", err,
                                             sizeof err),
                     0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    zsock_destroy(&f->sub);
    config_destroy(&f->cfg);
    free(f);
    return 0;
}

static void fill_counters(cJSON *counters, void *arg)
{
    cJSON_AddNumberToObject(counters, "frames", (double)*(int *)arg);
}

/* Receives the next status message within 5 s; returns its parsed body and the topic. */
static cJSON *receive_status(fixture_t *f, heartbeat_t *hb, char *topic, size_t topic_len)
{
    int64_t deadline = now_monotonic_ms() + 5000;
    zpoller_t *poller = zpoller_new(f->sub, NULL);
    cJSON *body = NULL;
    while (!body && now_monotonic_ms() < deadline) {
        int64_t wait = heartbeat_tick(hb, now_monotonic_ms());
        if (zpoller_wait(poller, (int)(wait < 20 ? wait : 20)) == f->sub) {
            zmsg_t *msg = zmsg_recv(f->sub);
            assert_non_null(msg);
            assert_int_equal(zmsg_size(msg), 2);
            char *t = zmsg_popstr(msg);
            char *b = zmsg_popstr(msg);
            snprintf(topic, topic_len, "%s", t);
            body = cJSON_Parse(b);
            zstr_free(&t);
            zstr_free(&b);
            zmsg_destroy(&msg);
        }
    }
    zpoller_destroy(&poller);
    assert_non_null(body);
    return body;
}

static void heartbeat_carries_identity_state_and_counters(void **state)
{
    fixture_t *f = *state;
    char err[256];
    int frames = 42;
    heartbeat_t *hb = heartbeat_new(f->cfg, "collector", "spot", fill_counters, &frames, err,
                                    sizeof err);
    assert_non_null(hb);
    assert_string_equal(heartbeat_topic(hb), "status.collector.spot");
    char topic[BUS_TOPIC_MAX];
    cJSON *body = receive_status(f, hb, topic, sizeof topic);
    assert_string_equal(topic, "status.collector.spot");
    assert_string_equal(cJSON_GetObjectItem(body, "program")->valuestring, "collector");
    assert_string_equal(cJSON_GetObjectItem(body, "instance")->valuestring, "spot");
    assert_string_equal(cJSON_GetObjectItem(body, "state")->valuestring, "running");
    assert_int_equal((int)cJSON_GetObjectItem(body, "pid")->valuedouble, getpid());
    assert_true(cJSON_GetObjectItem(body, "seq")->valuedouble >= 1);
    assert_true(cJSON_GetObjectItem(body, "ts_ns")->valuedouble > 1.7e18);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(body, "log"), "write_errors"));
    cJSON *counters = cJSON_GetObjectItem(body, "counters");
    assert_int_equal((int)cJSON_GetObjectItem(counters, "frames")->valuedouble, 42);
    double first_seq = cJSON_GetObjectItem(body, "seq")->valuedouble;
    cJSON_Delete(body);

    body = receive_status(f, hb, topic, sizeof topic);
    assert_true(cJSON_GetObjectItem(body, "seq")->valuedouble == first_seq + 1);
    cJSON_Delete(body);

    assert_int_equal(heartbeat_send(hb, "stopped"), 0);
    body = receive_status(f, hb, topic, sizeof topic);
    /* A tick may have slipped in before the final message; read until "stopped". */
    while (strcmp(cJSON_GetObjectItem(body, "state")->valuestring, "stopped") != 0) {
        cJSON_Delete(body);
        body = receive_status(f, hb, topic, sizeof topic);
    }
    cJSON_Delete(body);
    heartbeat_destroy(&hb);
    assert_null(hb);
}

static void tick_reports_time_to_next_and_never_bursts(void **state)
{
    fixture_t *f = *state;
    char err[256];
    heartbeat_t *hb = heartbeat_new(f->cfg, "bookbuilder", "main", NULL, NULL, err, sizeof err);
    assert_non_null(hb);
    int64_t t0 = now_monotonic_ms();
    assert_int_equal(heartbeat_tick(hb, t0), 100);      /* due at once, then every 100 ms */
    assert_int_equal(heartbeat_tick(hb, t0 + 40), 60);  /* not due: time left */
    assert_int_equal(heartbeat_tick(hb, t0 + 100), 100);
    /* After a 10 s stall, one heartbeat and a full interval, not 100 catch-up messages. */
    assert_int_equal(heartbeat_tick(hb, t0 + 10000), 100);
    assert_int_equal(heartbeat_tick(hb, t0 + 10001), 99);
    heartbeat_destroy(&hb);
}

static void invalid_names_are_refused(void **state)
{
    fixture_t *f = *state;
    char err[256];
    assert_null(heartbeat_new(f->cfg, "Collector", "spot", NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "invalid status topic"));
    assert_null(heartbeat_new(f->cfg, "collector", "a.b", NULL, NULL, err, sizeof err));
}

int main(void)
{
    signals_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(heartbeat_carries_identity_state_and_counters, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(tick_reports_time_to_next_and_never_bursts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(invalid_names_are_refused, setup, teardown),
    };
    return cmocka_run_group_tests_name("heartbeat", tests, NULL, NULL);
}
