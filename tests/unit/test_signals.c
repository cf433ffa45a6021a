/* Unit tests of common/signals: stop and reload requests, and the second-signal escape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "signals.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void sighup_asks_for_one_reload(void **state)
{
    (void)state;
    assert_false(signals_take_reload());
    assert_int_equal(raise(SIGHUP), 0);
    assert_true(signals_take_reload());
    assert_false(signals_take_reload());
    assert_false(signals_stop_requested());
}

static void sigpipe_does_not_kill(void **state)
{
    (void)state;
    assert_int_equal(raise(SIGPIPE), 0);
    assert_false(signals_stop_requested());
}

static void second_stop_signal_exits_at_once(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        raise(SIGTERM);
        if (!signals_stop_requested())
            _exit(1);
        raise(SIGTERM); /* the operator insists: no clean-up, exit 128 + 15 */
        _exit(2);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 128 + SIGTERM);
}

static void sigterm_asks_to_stop(void **state)
{
    (void)state;
    assert_int_equal(signals_stop_signal(), 0);
    assert_int_equal(raise(SIGTERM), 0);
    assert_true(signals_stop_requested());
    assert_int_equal(signals_stop_signal(), SIGTERM);
}

int main(void)
{
    assert_int_equal(signals_install(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sighup_asks_for_one_reload),
        cmocka_unit_test(sigpipe_does_not_kill),
        cmocka_unit_test(second_stop_signal_exits_at_once),
        cmocka_unit_test(sigterm_asks_to_stop), /* last: the stop request stays set */
    };
    return cmocka_run_group_tests_name("signals", tests, NULL, NULL);
}
