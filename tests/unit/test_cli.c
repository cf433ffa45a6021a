/* Unit tests of common/cli: the command line every program shares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *market;
static const char *dry_run;
static const cli_option_t options[] = {
    {"market", "spot|usdm|coinm", "market to collect", &market},
    {"dry-run", NULL, "do nothing", &dry_run},
    {0},
};
static const cli_spec_t spec = {"bookcast-test", "A program for tests.", options};

static int run(config_t **cfg, int argc, char **argv)
{
    market = NULL;
    dry_run = NULL;
    return cli_start(&spec, argc, argv, cfg);
}

static int setup(void **state)
{
    (void)state;
    unsetenv("BOOKCAST_CONFIG");
    unsetenv("BOOKCAST_LOG_LEVEL");
    return 0;
}

static void help_and_version_exit_zero(void **state)
{
    (void)state;
    config_t *cfg = NULL;
    char *help[] = {"prog", "--help", NULL};
    assert_int_equal(run(&cfg, 2, help), 0);
    char *version[] = {"prog", "--version", NULL};
    assert_int_equal(run(&cfg, 2, version), 0);
    assert_null(cfg);
}

static void own_options_and_set_are_parsed(void **state)
{
    (void)state;
    config_t *cfg = NULL;
    char *argv[] = {"prog", "--market", "usdm", "--dry-run", "--set", "log.level=debug",
                    "--set=recorder.db_path=/tmp/x.db", NULL};
    assert_int_equal(run(&cfg, 7, argv), -1);
    assert_non_null(cfg);
    assert_string_equal(market, "usdm");
    assert_string_equal(dry_run, "1");
    assert_string_equal(config_str(cfg, "log.level"), "debug");
    assert_string_equal(config_str(cfg, "recorder.db_path"), "/tmp/x.db");
    config_destroy(&cfg);
}

static void set_wins_over_environment_which_wins_over_file(void **state)
{
    (void)state;
    char path[] = "/tmp/bookcast-cli-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "{\"log\":{\"level\":\"warn\",\"max_files\":3},\"recorder\":{\"instance\":\"f\"}}";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    setenv("BOOKCAST_CONFIG", path, 1);
    setenv("BOOKCAST_LOG_LEVEL", "error", 1);
    setenv("BOOKCAST_LOG_MAX_FILES", "4", 1);
    config_t *cfg = NULL;
    char *argv[] = {"prog", "--set", "log.level=debug", NULL};
    assert_int_equal(run(&cfg, 3, argv), -1);
    assert_string_equal(cli_config_path(), path);
    assert_string_equal(config_str(cfg, "log.level"), "debug");
    assert_int_equal(config_int(cfg, "log.max_files"), 4);
    assert_string_equal(config_str(cfg, "recorder.instance"), "f");
    config_destroy(&cfg);
    unsetenv("BOOKCAST_LOG_MAX_FILES");
    unsetenv("BOOKCAST_LOG_LEVEL");
    unsetenv("BOOKCAST_CONFIG");
    unlink(path);
}

static void errors_return_usage_status_and_no_config(void **state)
{
    (void)state;
    config_t *cfg = NULL;
    char *unknown[] = {"prog", "--frobnicate", NULL};
    assert_int_equal(run(&cfg, 2, unknown), CLI_EXIT_USAGE);
    char *missing_value[] = {"prog", "--config", NULL};
    assert_int_equal(run(&cfg, 2, missing_value), CLI_EXIT_USAGE);
    char *missing_file[] = {"prog", "--config", "/nonexistent/x.json", NULL};
    assert_int_equal(run(&cfg, 3, missing_file), CLI_EXIT_USAGE);
    char *bad_set[] = {"prog", "--set", "log.level=loud", NULL};
    assert_int_equal(run(&cfg, 3, bad_set), CLI_EXIT_USAGE);
    char *prefix_only[] = {"prog", "--marketplace", "x", NULL};
    assert_int_equal(run(&cfg, 3, prefix_only), CLI_EXIT_USAGE);
    setenv("BOOKCAST_NOT_A_KEY", "1", 1);
    char *plain[] = {"prog", NULL};
    assert_int_equal(run(&cfg, 1, plain), CLI_EXIT_USAGE);
    unsetenv("BOOKCAST_NOT_A_KEY");
    assert_null(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(help_and_version_exit_zero, setup),
        cmocka_unit_test_setup(own_options_and_set_are_parsed, setup),
        cmocka_unit_test_setup(set_wins_over_environment_which_wins_over_file, setup),
        cmocka_unit_test_setup(errors_return_usage_status_and_no_config, setup),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
