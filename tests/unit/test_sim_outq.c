/* Unit tests of sim/outq: shared messages and per-connection queues. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "outq.h"

#include <stdio.h>
#include <string.h>

static void message_copies_data_after_headroom(void **state)
{
    (void)state;
    sim_msg_t *msg = sim_msg_new("hello", 5);
    assert_non_null(msg);
    assert_int_equal(msg->len, 5);
    assert_memory_equal(sim_msg_data(msg), "hello", 5);
    assert_ptr_equal(sim_msg_data(msg), msg->bytes + SIM_MSG_HEADROOM);
    sim_msg_unref(&msg);
    assert_null(msg);
}

static void shared_message_lives_until_the_last_queue_drops_it(void **state)
{
    (void)state;
    sim_outq_t *a = sim_outq_new(), *b = sim_outq_new();
    assert_non_null(a);
    assert_non_null(b);
    sim_msg_t *msg = sim_msg_new("x", 1);
    assert_int_equal(sim_outq_push(a, msg), 0);
    assert_int_equal(sim_outq_push(b, msg), 0);
    assert_int_equal(msg->refs, 3);
    sim_msg_t *mine = msg;
    sim_msg_unref(&mine);
    assert_int_equal(msg->refs, 2);
    sim_outq_pop(a);
    assert_int_equal(msg->refs, 1);
    assert_ptr_equal(sim_outq_peek(b), msg);
    sim_outq_destroy(&b); /* frees it: the sanitizer run catches a leak or a double free */
    sim_outq_destroy(&a);
    assert_null(a);
}

static void queue_keeps_order_and_counts_bytes_across_growth(void **state)
{
    (void)state;
    sim_outq_t *q = sim_outq_new();
    char text[32];
    size_t bytes = 0;
    static int pushed[3000];
    size_t pushed_count = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 1000; i++) {
            int n = snprintf(text, sizeof text, "m%d", i);
            sim_msg_t *msg = sim_msg_new(text, (size_t)n);
            assert_int_equal(sim_outq_push(q, msg), 0);
            sim_msg_unref(&msg);
            pushed[pushed_count++] = i;
            bytes += (size_t)n;
            if (i % 3 == 0) { /* interleave pops so the ring wraps */
                sim_msg_t *head = sim_outq_peek(q);
                bytes -= head->len;
                sim_outq_pop(q);
            }
        }
        assert_int_equal(sim_outq_bytes(q), bytes);
    }
    size_t count = sim_outq_count(q);
    assert_int_equal(count, 3 * (1000 - 334));
    /* Pops take the oldest, so the survivors are the last `count` pushed, in push order. */
    for (size_t k = pushed_count - count; k < pushed_count; k++) {
        sim_msg_t *head = sim_outq_peek(q);
        char copy[32];
        snprintf(copy, sizeof copy, "%.*s", (int)head->len, (const char *)sim_msg_data(head));
        int value;
        assert_int_equal(sscanf(copy, "m%d", &value), 1);
        assert_int_equal(value, pushed[k]);
        sim_outq_pop(q);
    }
    assert_int_equal(sim_outq_bytes(q), 0);
    assert_null(sim_outq_peek(q));
    sim_outq_pop(q); /* popping an empty queue is harmless */
    sim_outq_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_copies_data_after_headroom),
        cmocka_unit_test(shared_message_lives_until_the_last_queue_drops_it),
        cmocka_unit_test(queue_keeps_order_and_counts_bytes_across_growth),
    };
    return cmocka_run_group_tests_name("sim_outq", tests, NULL, NULL);
}
