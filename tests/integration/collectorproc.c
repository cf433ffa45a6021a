/*
 * collectorproc.c — start, signal and stop a real bookcast-collector for a test (see
 * collectorproc.h).
 *
 * The child's argv and environment are built before fork, so that between fork and exec the
 * child only opens its log, changes directory and execs (the parent has threads: the fake
 * bookbuilder's and ZeroMQ's). Readiness is the collector's "started, instance" log line,
 * written once its sockets exist; the test then waits for frames with bounded waits of its own.
 */
#include "collectorproc.h"

#include "now.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 10000
#define DESTROY_WAIT_MS 4000
#define ARGS_MAX 160
#define READY_LINE "started, instance"
#define LINE_MAX_BYTES_FOR_SCAN 17000 /* a log line is at most LOG_LINE_MAX (16 KiB) */

extern char **environ;

struct collectorproc {
    pid_t pid;
    char *dir;
    char log[512];
    bool exited;
    int status;      /* waitpid status once exited */
    bool killed;     /* we had to SIGKILL it */
    bool terminated; /* collectorproc_terminate ran */
    int64_t took_ms;
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void remove_dir(const char *dir)
{
    if (getenv("KEEP_TEST_DIRS")) {
        fprintf(stderr, "collectorproc: kept %s\n", dir);
        return;
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "collectorproc: could not remove %s\n", dir);
}

char *collectorproc_make_dir(void)
{
    char tmpl[] = "/tmp/bookcast-coltest.XXXXXX";
    if (!mkdtemp(tmpl)) {
        fprintf(stderr, "collectorproc: mkdtemp: %s\n", strerror(errno));
        return NULL;
    }
    return strdup(tmpl);
}

/* The parent's environment without any BOOKCAST_* variable (a NULL-terminated copy of the
   pointers; the strings stay the environment's). */
static char **clean_environment(void)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = calloc(n + 1, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "BOOKCAST_", 9) != 0)
            env[k++] = environ[i];
    env[k] = NULL;
    return env;
}

collectorproc_t *collectorproc_start(const collectorproc_opts_t *opts)
{
    char *dir = collectorproc_make_dir();
    return dir ? collectorproc_start_in(opts, dir) : NULL;
}

collectorproc_t *collectorproc_start_in(const collectorproc_opts_t *opts, char *dir)
{
    collectorproc_t *self = calloc(1, sizeof *self);
    if (!self) {
        free(dir);
        return NULL;
    }
    self->dir = dir;
    snprintf(self->log, sizeof self->log, "%s/collector.log", dir);

    const char *market = market_name(opts->market);
    char sets[8][700];
    int port = simproc_port(opts->sim, opts->market);
    snprintf(sets[0], sizeof sets[0], "markets.%s.ws_url=wss://127.0.0.1:%d", market, port);
    snprintf(sets[1], sizeof sets[1], "markets.%s.rest_url=https://127.0.0.1:%d", market, port);
    snprintf(sets[2], sizeof sets[2], "markets.%s.ca_file=%s", market, simproc_ca(opts->sim));
    snprintf(sets[3], sizeof sets[3], "bus.frames=%s", opts->frames);
    snprintf(sets[4], sizeof sets[4], "bus.control=%s", opts->control);
    snprintf(sets[5], sizeof sets[5], "bus.status=%s", opts->status);
    const char *argv[ARGS_MAX];
    int n = 0;
    argv[n++] = BOOKCAST_COLLECTOR_BIN;
    argv[n++] = "--market";
    argv[n++] = market;
    if (opts->config_file) {
        argv[n++] = "--config";
        argv[n++] = opts->config_file;
    }
    for (int i = 0; i < 6; i++) {
        argv[n++] = "--set";
        argv[n++] = sets[i];
    }
    for (int i = 0; opts->sets && opts->sets[i]; i++) {
        if (n >= ARGS_MAX - 3) {
            fprintf(stderr, "collectorproc: too many --set options\n");
            collectorproc_destroy(&self);
            return NULL;
        }
        argv[n++] = "--set";
        argv[n++] = opts->sets[i];
    }
    argv[n] = NULL;
    char **env = clean_environment();
    if (!env) {
        collectorproc_destroy(&self);
        return NULL;
    }

    self->pid = fork();
    if (self->pid < 0) {
        fprintf(stderr, "collectorproc: fork: %s\n", strerror(errno));
        free(env);
        self->exited = true;
        collectorproc_destroy(&self);
        return NULL;
    }
    if (self->pid == 0) {
        int fd = open(self->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        /* No config/ here: ./config/bookcast.json cannot be picked up. */
        if (chdir(self->dir) != 0)
            _exit(126);
        execve(argv[0], (char *const *)argv, env);
        _exit(127);
    }
    free(env);
    if (opts->no_wait)
        return self;
    int64_t deadline = now_monotonic_ms() + START_TIMEOUT_MS;
    while (collectorproc_log_count(self, READY_LINE) == 0) {
        if (!collectorproc_alive(self) || now_monotonic_ms() > deadline) {
            fprintf(stderr, "collectorproc: bookcast-collector did not start (%s)\n",
                    collectorproc_alive(self) ? "no \"" READY_LINE "\" line" : "it exited");
            collectorproc_destroy(&self);
            return NULL;
        }
        sleep_ms(10);
    }
    return self;
}

bool collectorproc_alive(collectorproc_t *self)
{
    if (self->exited)
        return false;
    int status;
    pid_t r = waitpid(self->pid, &status, WNOHANG);
    if (r == self->pid) {
        self->exited = true;
        self->status = status;
        return false;
    }
    return true;
}

static int exit_code(const collectorproc_t *self)
{
    if (self->killed || !WIFEXITED(self->status))
        return -1;
    return WEXITSTATUS(self->status);
}

int collectorproc_terminate(collectorproc_t *self, int64_t wait_ms, int64_t *took_ms)
{
    if (!self->terminated) {
        self->terminated = true;
        int64_t start = now_monotonic_ms();
        if (collectorproc_alive(self)) {
            kill(self->pid, SIGTERM);
            int64_t deadline = start + wait_ms;
            while (collectorproc_alive(self) && now_monotonic_ms() < deadline)
                sleep_ms(2);
            if (collectorproc_alive(self)) {
                fprintf(stderr,
                        "collectorproc: bookcast-collector %d still runs %lld ms after "
                        "SIGTERM; killing it\n",
                        (int)self->pid, (long long)wait_ms);
                kill(self->pid, SIGKILL);
                waitpid(self->pid, &self->status, 0);
                self->exited = true;
                self->killed = true;
            }
        }
        self->took_ms = now_monotonic_ms() - start;
        if (!self->killed && WIFSIGNALED(self->status))
            fprintf(stderr, "collectorproc: bookcast-collector died by signal %d\n",
                    WTERMSIG(self->status));
    }
    if (took_ms)
        *took_ms = self->took_ms;
    return exit_code(self);
}

void collectorproc_destroy(collectorproc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collectorproc_t *self = *self_p;
    if (self->pid > 0) {
        int64_t took;
        int status = collectorproc_terminate(self, DESTROY_WAIT_MS, &took);
        fprintf(stderr, "collectorproc: bookcast-collector %d ended with %d after %lld ms\n",
                (int)self->pid, status, (long long)took);
        char cmd[700];
        fprintf(stderr, "---- the collector's log (%s): warnings, errors, sanitizer ----\n",
                self->log);
        snprintf(cmd, sizeof cmd, "grep -v '^[0-9TZ:.-]* INFO ' '%s' | head -n 60 >&2", self->log);
        if (system(cmd) != 0)
            fprintf(stderr, "(none)\n");
        fprintf(stderr, "---- its last lines ----\n");
        collectorproc_dump_log(self, 25);
        fprintf(stderr, "----\n");
    }
    if (self->dir)
        remove_dir(self->dir);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

int collectorproc_signal(collectorproc_t *self, int sig)
{
    if (!collectorproc_alive(self))
        return -1;
    return kill(self->pid, sig) == 0 ? 0 : -1;
}

pid_t collectorproc_pid(const collectorproc_t *self)
{
    return self->pid;
}

const char *collectorproc_dir(const collectorproc_t *self)
{
    return self->dir;
}

int collectorproc_log_count(const collectorproc_t *self, const char *needle)
{
    FILE *f = fopen(self->log, "r");
    if (!f)
        return 0;
    char line[LINE_MAX_BYTES_FOR_SCAN];
    int count = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle))
            count++;
    fclose(f);
    return count;
}

bool collectorproc_wait_log(const collectorproc_t *self, const char *needle, int n,
                            int64_t timeout_ms)
{
    int64_t deadline = now_monotonic_ms() + timeout_ms;
    while (collectorproc_log_count(self, needle) < n) {
        if (now_monotonic_ms() >= deadline)
            return false;
        sleep_ms(20);
    }
    return true;
}

void collectorproc_dump_log(const collectorproc_t *self, int lines)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "tail -n %d '%s' >&2", lines, self->log);
    if (system(cmd) != 0)
        fprintf(stderr, "(no log)\n");
}
