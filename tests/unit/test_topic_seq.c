/* Unit tests of common/topic_seq: contiguous per-topic counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "topic_seq.h"

#include <stdio.h>

static void first_message_of_a_topic_is_seq_1(void **state)
{
    (void)state;
    topic_seq_t *seqs = topic_seq_new();
    assert_non_null(seqs);
    assert_int_equal(topic_seq_last(seqs, "book.spot.BTCUSDT"), 0);
    assert_int_equal(topic_seq_next(seqs, "book.spot.BTCUSDT"), 1);
    assert_int_equal(topic_seq_next(seqs, "book.spot.BTCUSDT"), 2);
    assert_int_equal(topic_seq_last(seqs, "book.spot.BTCUSDT"), 2);
    topic_seq_destroy(&seqs);
    assert_null(seqs);
}

static void topics_count_independently_even_when_one_prefixes_another(void **state)
{
    (void)state;
    topic_seq_t *seqs = topic_seq_new();
    assert_non_null(seqs);
    assert_int_equal(topic_seq_next(seqs, "book.usdm.BTCUSDT"), 1);
    assert_int_equal(topic_seq_next(seqs, "book.usdm.BTCUSDT_251226"), 1);
    assert_int_equal(topic_seq_next(seqs, "book.usdm.BTCUSDT"), 2);
    assert_int_equal(topic_seq_next(seqs, "bbo.usdm.BTCUSDT"), 1);
    assert_int_equal(topic_seq_count(seqs), 3);
    topic_seq_destroy(&seqs);
}

static void many_topics_survive_growth_with_their_counts(void **state)
{
    (void)state;
    topic_seq_t *seqs = topic_seq_new();
    assert_non_null(seqs);
    char topic[64];
    enum { TOPICS = 20000 };
    for (int round = 1; round <= 3; round++) {
        for (int i = 0; i < TOPICS; i++) {
            snprintf(topic, sizeof topic, "book.spot.SYM%05d", i);
            assert_int_equal(topic_seq_next(seqs, topic), (uint64_t)round);
        }
    }
    assert_int_equal(topic_seq_count(seqs), TOPICS);
    snprintf(topic, sizeof topic, "book.spot.SYM%05d", 12345);
    assert_int_equal(topic_seq_last(seqs, topic), 3);
    assert_int_equal(topic_seq_last(seqs, "book.spot.NOPE"), 0);
    topic_seq_destroy(&seqs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_message_of_a_topic_is_seq_1),
        cmocka_unit_test(topics_count_independently_even_when_one_prefixes_another),
        cmocka_unit_test(many_topics_survive_growth_with_their_counts),
    };
    return cmocka_run_group_tests_name("topic_seq", tests, NULL, NULL);
}
