/*
 * bookbuilderproc.c — start, signal and stop a real bookcast-bookbuilder for a test (see
 * bookbuilderproc.h).
 *
 * The child's argv and environment are built before fork, so that between fork and exec the
 * child only opens its log, changes directory and execs: the test process has threads (its bus
 * reader, ZeroMQ's), and only async-signal-safe calls are allowed there. Readiness is the
 * "bookbuilder started" log line, written once every socket is bound.
 */
#include "bookbuilderproc.h"

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
#define DESTROY_WAIT_MS 5000
#define ARGS_MAX 200
#define READY_LINE "bookbuilder started"
#define LINE_MAX_BYTES_FOR_SCAN 17000 /* a log line is at most LOG_LINE_MAX (16 KiB) */

extern char **environ;

struct bookbuilderproc {
    pid_t pid;
    char dir[64];
    char log[128];
    bool exited;
    int status;      /* waitpid status once exited */
    bool killed;     /* it had to be SIGKILLed */
    bool terminated; /* bookbuilderproc_terminate ran */
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
        fprintf(stderr, "bookbuilderproc: kept %s\n", dir);
        return;
    }
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bookbuilderproc: could not remove %s\n", dir);
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

bookbuilderproc_t *bookbuilderproc_start(const char *const *sets)
{
    bookbuilderproc_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    snprintf(self->dir, sizeof self->dir, "/tmp/bookcast-bbtest.XXXXXX");
    if (!mkdtemp(self->dir)) {
        fprintf(stderr, "bookbuilderproc: mkdtemp: %s\n", strerror(errno));
        free(self);
        return NULL;
    }
    snprintf(self->log, sizeof self->log, "%s/bookbuilder.log", self->dir);
    const char *argv[ARGS_MAX];
    int n = 0;
    argv[n++] = BOOKCAST_BOOKBUILDER_BIN;
    for (int i = 0; sets && sets[i]; i++) {
        if (n >= ARGS_MAX - 3) {
            fprintf(stderr, "bookbuilderproc: too many --set options\n");
            self->exited = true;
            bookbuilderproc_destroy(&self);
            return NULL;
        }
        argv[n++] = "--set";
        argv[n++] = sets[i];
    }
    argv[n] = NULL;
    char **env = clean_environment();
    if (!env) {
        self->exited = true;
        bookbuilderproc_destroy(&self);
        return NULL;
    }
    self->pid = fork();
    if (self->pid < 0) {
        fprintf(stderr, "bookbuilderproc: fork: %s\n", strerror(errno));
        free(env);
        self->exited = true;
        bookbuilderproc_destroy(&self);
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
    int64_t deadline = now_monotonic_ms() + START_TIMEOUT_MS;
    while (bookbuilderproc_log_count(self, READY_LINE) == 0) {
        if (!bookbuilderproc_alive(self) || now_monotonic_ms() > deadline) {
            fprintf(stderr, "bookbuilderproc: bookcast-bookbuilder did not start (%s)\n",
                    bookbuilderproc_alive(self) ? "no \"" READY_LINE "\" line" : "it exited");
            bookbuilderproc_destroy(&self);
            return NULL;
        }
        sleep_ms(10);
    }
    return self;
}

bool bookbuilderproc_alive(bookbuilderproc_t *self)
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

static int exit_code(const bookbuilderproc_t *self)
{
    if (self->killed || !WIFEXITED(self->status))
        return -1;
    return WEXITSTATUS(self->status);
}

int bookbuilderproc_terminate(bookbuilderproc_t *self, int64_t wait_ms, int64_t *took_ms)
{
    if (!self->terminated) {
        self->terminated = true;
        int64_t start = now_monotonic_ms();
        if (bookbuilderproc_alive(self)) {
            kill(self->pid, SIGTERM);
            int64_t deadline = start + wait_ms;
            while (bookbuilderproc_alive(self) && now_monotonic_ms() < deadline)
                sleep_ms(2);
            if (bookbuilderproc_alive(self)) {
                fprintf(stderr,
                        "bookbuilderproc: bookcast-bookbuilder %d still runs %lld ms after "
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
            fprintf(stderr, "bookbuilderproc: bookcast-bookbuilder died by signal %d\n",
                    WTERMSIG(self->status));
    }
    if (took_ms)
        *took_ms = self->took_ms;
    return exit_code(self);
}

void bookbuilderproc_destroy(bookbuilderproc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    bookbuilderproc_t *self = *self_p;
    if (self->pid > 0) {
        int64_t took;
        int status = bookbuilderproc_terminate(self, DESTROY_WAIT_MS, &took);
        fprintf(stderr, "bookbuilderproc: bookcast-bookbuilder %d ended with %d after %lld ms\n",
                (int)self->pid, status, (long long)took);
        char cmd[300];
        fprintf(stderr, "---- the bookbuilder's log (%s): warnings, errors, sanitizer ----\n",
                self->log);
        snprintf(cmd, sizeof cmd, "grep -v '^[0-9TZ:.-]* INFO ' '%s' | head -n 60 >&2", self->log);
        if (system(cmd) != 0)
            fprintf(stderr, "(none)\n");
        fprintf(stderr, "---- its last lines ----\n");
        bookbuilderproc_dump_log(self, 25);
        fprintf(stderr, "----\n");
    }
    remove_dir(self->dir);
    free(self);
    *self_p = NULL;
}

pid_t bookbuilderproc_pid(const bookbuilderproc_t *self)
{
    return self->pid;
}

const char *bookbuilderproc_dir(const bookbuilderproc_t *self)
{
    return self->dir;
}

int bookbuilderproc_log_count(const bookbuilderproc_t *self, const char *needle)
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

void bookbuilderproc_dump_log(const bookbuilderproc_t *self, int lines)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "tail -n %d '%s' >&2", lines, self->log);
    if (system(cmd) != 0)
        fprintf(stderr, "(no log)\n");
}
