/* Unit tests of collector/outbox: the bounded queue between the service loop and the PUSH
   socket, which drops only loudly. A fake send function stands in for the socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "outbox.h"

#include <stdio.h>
#include <string.h>

/* The fake socket: records what it was sent; `accept` frames are taken, then it would block;
   `fail_at` (1-based call number, 0 none) fails once with an error. */
typedef struct {
    char sent[64][32];
    size_t count;
    size_t calls;
    size_t accept;
    size_t fail_at;
} sink_t;

static int sink_send(void *arg, const void *data, size_t len)
{
    sink_t *s = arg;
    s->calls++;
    if (s->fail_at && s->calls == s->fail_at)
        return -1;
    if (s->count >= s->accept)
        return 1;
    snprintf(s->sent[s->count], sizeof s->sent[0], "%.*s", (int)len, (const char *)data);
    s->count++;
    return 0;
}

static int push_text(outbox_t *box, const char *text, const char *stream)
{
    return outbox_push(box, text, strlen(text), stream);
}

static void frames_leave_in_fifo_order(void **state)
{
    (void)state;
    outbox_t *box = outbox_new(1024);
    assert_non_null(box);
    assert_int_equal(push_text(box, "one", "a@depth"), 0);
    assert_int_equal(push_text(box, "two", "b@depth"), 0);
    assert_int_equal(outbox_push_always(box, "three", 5), 0);
    assert_int_equal(push_text(box, "four", NULL), 0);
    assert_int_equal(outbox_frames(box), 4);
    assert_int_equal(outbox_bytes(box), 15);
    sink_t sink = {.accept = 64};
    assert_int_equal(outbox_flush(box, sink_send, &sink), 4);
    assert_string_equal(sink.sent[0], "one");
    assert_string_equal(sink.sent[1], "two");
    assert_string_equal(sink.sent[2], "three");
    assert_string_equal(sink.sent[3], "four");
    assert_int_equal(outbox_frames(box), 0);
    assert_int_equal(outbox_bytes(box), 0);
    assert_int_equal(outbox_sent(box), 4);
    outbox_destroy(&box);
    assert_null(box);
}

static void push_beyond_the_bound_is_dropped(void **state)
{
    (void)state;
    outbox_t *box = outbox_new(10);
    assert_int_equal(push_text(box, "12345", "a@depth"), 0);
    assert_int_equal(push_text(box, "12345", "a@depth"), 0); /* exactly 10 */
    assert_int_equal(push_text(box, "x", "a@depth"), -1);
    assert_int_equal(outbox_frames(box), 2);
    assert_int_equal(outbox_dropped(box), 1);
    outbox_destroy(&box);
}

static void one_frame_always_fits_an_empty_queue(void **state)
{
    (void)state;
    outbox_t *box = outbox_new(4);
    assert_int_equal(push_text(box, "larger than the bound", "a@depth"), 0);
    assert_int_equal(outbox_frames(box), 1);
    assert_int_equal(push_text(box, "x", "a@depth"), -1);
    outbox_destroy(&box);
}

static void drops_are_counted_per_stream_without_duplicates(void **state)
{
    (void)state;
    outbox_t *box = outbox_new(4);
    assert_int_equal(push_text(box, "full", "a@depth"), 0);
    assert_int_equal(push_text(box, "1", "b@depth"), -1);
    assert_int_equal(push_text(box, "2", "c@trade"), -1);
    assert_int_equal(push_text(box, "3", "b@depth"), -1);
    assert_int_equal(push_text(box, "4", NULL), -1); /* counted, names no stream */
    sink_t sink = {.accept = 64};
    outbox_flush(box, sink_send, &sink);
    assert_true(outbox_losses_pending(box));
    char **streams;
    size_t count;
    uint64_t dropped;
    outbox_take_losses(box, &streams, &count, &dropped);
    assert_int_equal(dropped, 4);
    assert_int_equal(count, 2);
    assert_string_equal(streams[0], "b@depth");
    assert_string_equal(streams[1], "c@trade");
    outbox_free_streams(streams, count);
    assert_false(outbox_losses_pending(box));
    assert_int_equal(outbox_dropped(box), 4); /* the total stays */
    outbox_destroy(&box);
}

static void everything_after_a_drop_is_dropped_until_losses_are_taken(void **state)
{
    (void)state;
    outbox_t *box = outbox_new(8);
    assert_int_equal(push_text(box, "12345678", "a@depth"), 0);
    assert_int_equal(push_text(box, "x", "a@depth"), -1);
    sink_t sink = {.accept = 64};
    outbox_flush(box, sink_send, &sink); /* the queue is empty again */
    assert_int_equal(outbox_frames(box), 0);
    /* Room, but no data may follow the hole before the OVERFLOW is queued. */
    assert_int_equal(push_text(box, "y", "b@trade"), -1);
    assert_int_equal(outbox_frames(box), 0);
    char **streams;
    size_t count;
    uint64_t dropped;
    outbox_take_losses(box, &streams, &count, &dropped);
    assert_int_equal(dropped, 2);
    assert_int_equal(count, 2);
    outbox_free_streams(streams, count);
    assert_int_equal(push_text(box, "z", "a@depth"), 0);
    outbox_destroy(&box);
}

static void losses_pending_only_once_below_half(void **state)
{
    (void)state;
    outbox_t *box = outbox_new(10);
    for (int i = 0; i < 5; i++)
        assert_int_equal(push_text(box, "ab", "a@depth"), 0); /* 10 bytes */
    assert_int_equal(push_text(box, "ab", "a@depth"), -1);
    assert_false(outbox_losses_pending(box)); /* full */
    sink_t sink = {.accept = 2};
    outbox_flush(box, sink_send, &sink); /* 6 bytes left: above half */
    assert_int_equal(outbox_bytes(box), 6);
    assert_false(outbox_losses_pending(box));
    sink.accept = 3;
    outbox_flush(box, sink_send, &sink); /* 4 bytes: below half */
    assert_int_equal(outbox_bytes(box), 4);
    assert_true(outbox_losses_pending(box));
    outbox_destroy(&box);
}

static void push_always_ignores_the_bound(void **state)
{
    (void)state;
    outbox_t *box = outbox_new(4);
    assert_int_equal(push_text(box, "full", "a@depth"), 0);
    assert_int_equal(push_text(box, "x", "a@depth"), -1);
    assert_int_equal(outbox_push_always(box, "conn down", 9), 0);
    assert_int_equal(outbox_push_always(box, "overflow", 8), 0);
    assert_int_equal(outbox_frames(box), 3);
    assert_int_equal(outbox_bytes(box), 21);
    assert_int_equal(outbox_dropped(box), 1);
    outbox_destroy(&box);
}

static void flush_stops_at_would_block_and_resumes(void **state)
{
    (void)state;
    outbox_t *box = outbox_new(1024);
    const char *texts[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++)
        assert_int_equal(push_text(box, texts[i], "s@trade"), 0);
    sink_t sink = {.accept = 2};
    assert_int_equal(outbox_flush(box, sink_send, &sink), 2);
    assert_int_equal(outbox_frames(box), 3);
    assert_int_equal(outbox_flush(box, sink_send, &sink), 0); /* still blocked */
    assert_int_equal(outbox_frames(box), 3);
    sink.accept = 64;
    assert_int_equal(outbox_flush(box, sink_send, &sink), 3);
    assert_int_equal(sink.count, 5);
    for (int i = 0; i < 5; i++)
        assert_string_equal(sink.sent[i], texts[i]); /* nothing lost or repeated */
    assert_int_equal(outbox_sent(box), 5);
    assert_int_equal(outbox_dropped(box), 0);
    outbox_destroy(&box);
}

static void send_errors_are_counted_and_the_frame_dropped(void **state)
{
    (void)state;
    outbox_t *box = outbox_new(1024);
    assert_int_equal(push_text(box, "a", "s@trade"), 0);
    assert_int_equal(push_text(box, "b", "s@trade"), 0);
    assert_int_equal(push_text(box, "c", "s@trade"), 0);
    sink_t sink = {.accept = 64, .fail_at = 2};
    assert_int_equal(outbox_flush(box, sink_send, &sink), 2);
    assert_int_equal(sink.count, 2);
    assert_string_equal(sink.sent[0], "a");
    assert_string_equal(sink.sent[1], "c");
    assert_int_equal(outbox_send_errors(box), 1);
    assert_int_equal(outbox_dropped(box), 1);
    assert_int_equal(outbox_frames(box), 0);
    /* A lost frame is a hole like any other: the owner must report it. */
    assert_true(outbox_losses_pending(box));
    outbox_destroy(&box);
}

static void destroy_frees_queued_frames_and_losses(void **state)
{
    (void)state;
    outbox_t *box = outbox_new(8);
    assert_int_equal(push_text(box, "12345678", "a@depth"), 0);
    assert_int_equal(push_text(box, "x", "b@depth"), -1);
    outbox_destroy(&box); /* the sanitizer build checks nothing leaks */
    assert_null(box);
    outbox_destroy(&box); /* NULL-safe */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frames_leave_in_fifo_order),
        cmocka_unit_test(push_beyond_the_bound_is_dropped),
        cmocka_unit_test(one_frame_always_fits_an_empty_queue),
        cmocka_unit_test(drops_are_counted_per_stream_without_duplicates),
        cmocka_unit_test(everything_after_a_drop_is_dropped_until_losses_are_taken),
        cmocka_unit_test(losses_pending_only_once_below_half),
        cmocka_unit_test(push_always_ignores_the_bound),
        cmocka_unit_test(flush_stops_at_would_block_and_resumes),
        cmocka_unit_test(send_errors_are_counted_and_the_frame_dropped),
        cmocka_unit_test(destroy_frees_queued_frames_and_losses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
