/* Unit tests of common/bus: topic grammar, endpoint errors, two-frame messages over loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bus.h"
#include "signals.h"

#include <string.h>

static void topic_is_channel_market_symbol(void **state)
{
    (void)state;
    char buf[BUS_TOPIC_MAX];
    assert_int_equal(bus_topic(buf, sizeof buf, "book", "spot", "BTCUSDT"), 17);
    assert_string_equal(buf, "book.spot.BTCUSDT");
    assert_true(bus_topic(buf, sizeof buf, "depth20", "usdm", "BTCUSDT_251226") > 0);
    assert_string_equal(buf, "depth20.usdm.BTCUSDT_251226");
    assert_true(bus_topic(buf, sizeof buf, "status", "collector", "spot") > 0);
    assert_string_equal(buf, "status.collector.spot");
}

static void topic_parts_are_validated(void **state)
{
    (void)state;
    char buf[BUS_TOPIC_MAX];
    assert_int_equal(bus_topic(buf, sizeof buf, "", "spot", "BTCUSDT"), -1);
    assert_int_equal(bus_topic(buf, sizeof buf, "Book", "spot", "BTCUSDT"), -1);
    assert_int_equal(bus_topic(buf, sizeof buf, "book", "sp.ot", "BTCUSDT"), -1);
    assert_int_equal(bus_topic(buf, sizeof buf, "book", "spot", "BTC.USDT"), -1);
    assert_int_equal(bus_topic(buf, sizeof buf, "book", "spot", "BtcUsdt"), -1);
    assert_int_equal(bus_topic(buf, sizeof buf, "book", "spot", ""), -1);
    assert_int_equal(bus_topic(buf, sizeof buf, "book", "spot", NULL), -1);
    assert_int_equal(bus_topic(buf, 10, "book", "spot", "BTCUSDT"), -1);
}

static void bind_error_names_the_endpoint(void **state)
{
    (void)state;
    char err[256];
    zsock_t *a = bus_bind(ZMQ_PUB, "tcp://127.0.0.1:*", err, sizeof err);
    assert_non_null(a);
    char endpoint[128];
    snprintf(endpoint, sizeof endpoint, "%s", zsock_endpoint(a));
    zsock_t *b = bus_bind(ZMQ_PUB, endpoint, err, sizeof err);
    assert_null(b);
    assert_non_null(strstr(err, "bind "));
    assert_non_null(strstr(err, endpoint));
    assert_null(bus_connect(ZMQ_SUB, "nonsense://x", err, sizeof err));
    assert_non_null(strstr(err, "connect nonsense://x"));
    zsock_destroy(&a);
}

static void message_is_topic_frame_then_body_frame(void **state)
{
    (void)state;
    char err[256];
    zsock_t *pull = bus_bind(ZMQ_PULL, "tcp://127.0.0.1:*", err, sizeof err);
    assert_non_null(pull);
    zsock_t *push = bus_connect(ZMQ_PUSH, zsock_endpoint(pull), err, sizeof err);
    assert_non_null(push);
    assert_int_equal(bus_send(push, "trade.spot.BTCUSDT", "{\"seq\":1}", 9), 0);
    zsock_set_rcvtimeo(pull, 5000);
    zmsg_t *msg = zmsg_recv(pull);
    assert_non_null(msg);
    assert_int_equal(zmsg_size(msg), 2);
    char *topic = zmsg_popstr(msg);
    char *body = zmsg_popstr(msg);
    assert_string_equal(topic, "trade.spot.BTCUSDT");
    assert_string_equal(body, "{\"seq\":1}");
    zstr_free(&topic);
    zstr_free(&body);
    zmsg_destroy(&msg);
    zsock_destroy(&push);
    zsock_destroy(&pull);
}

static void send_without_a_peer_never_blocks(void **state)
{
    (void)state;
    char err[256];
    /* PUSH with nobody on the other end: a blocking send would hang here forever. */
    zsock_t *push = bus_connect(ZMQ_PUSH, "tcp://127.0.0.1:1", err, sizeof err);
    assert_non_null(push);
    zsock_set_sndhwm(push, 1);
    int failures = 0;
    for (int i = 0; i < 10; i++)
        if (bus_send(push, "x.spot.A", "b", 1) != 0)
            failures++;
    assert_true(failures > 0);
    zsock_destroy(&push);
}

int main(void)
{
    signals_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(topic_is_channel_market_symbol),
        cmocka_unit_test(topic_parts_are_validated),
        cmocka_unit_test(bind_error_names_the_endpoint),
        cmocka_unit_test(message_is_topic_frame_then_body_frame),
        cmocka_unit_test(send_without_a_peer_never_blocks),
    };
    return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
