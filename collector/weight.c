/*
 * weight.c — the REST weight budget (see weight.h). Windows are the wall clock's minutes, as
 * Binance's are; a new minute forgets both counts.
 */
#include "weight.h"

#define DEFAULT_RETRY_429_S 60
#define DEFAULT_RETRY_418_S 120

static int64_t minute_of(int64_t now_ms)
{
    return now_ms - (now_ms % WEIGHT_WINDOW_MS + WEIGHT_WINDOW_MS) % WEIGHT_WINDOW_MS;
}

/* Moves the window to now's minute, forgetting the old counts. */
static void roll(weight_budget_t *self, int64_t now_ms)
{
    int64_t start = minute_of(now_ms);
    if (start != self->window_start_ms) {
        self->window_start_ms = start;
        self->charged = 0;
        self->reported = 0;
    }
}

void weight_init(weight_budget_t *self, const weight_policy_t *policy)
{
    *self = (weight_budget_t){.policy = *policy, .window_start_ms = INT64_MIN};
    if (self->policy.share_pct < 1)
        self->policy.share_pct = 1;
    if (self->policy.share_pct > 100)
        self->policy.share_pct = 100;
}

unsigned weight_budget(const weight_budget_t *self)
{
    return (unsigned)((uint64_t)self->policy.limit_per_min * self->policy.share_pct / 100);
}

unsigned weight_used(weight_budget_t *self, int64_t now_ms)
{
    roll(self, now_ms);
    return self->charged > self->reported ? self->charged : self->reported;
}

int64_t weight_wait_ms(weight_budget_t *self, unsigned weight, int64_t now_ms)
{
    if (weight > weight_budget(self))
        return -1;
    if (now_ms < self->blocked_until_ms)
        return self->blocked_until_ms - now_ms;
    self->banned = false;
    if (weight_used(self, now_ms) + weight <= weight_budget(self))
        return 0;
    self->throttled++;
    return self->window_start_ms + WEIGHT_WINDOW_MS + WEIGHT_WINDOW_MARGIN_MS - now_ms;
}

void weight_charge(weight_budget_t *self, unsigned weight, int64_t now_ms)
{
    roll(self, now_ms);
    self->charged += weight;
}

void weight_observe(weight_budget_t *self, unsigned used, int64_t now_ms)
{
    roll(self, now_ms);
    self->reported = used;
}

void weight_on_refusal(weight_budget_t *self, bool banned, int64_t retry_after_s, int64_t now_ms)
{
    if (retry_after_s <= 0)
        retry_after_s = banned ? DEFAULT_RETRY_418_S : DEFAULT_RETRY_429_S;
    int64_t until = now_ms + retry_after_s * 1000;
    if (until > self->blocked_until_ms)
        self->blocked_until_ms = until;
    self->banned = self->banned || banned;
    if (banned)
        self->bans++;
    else
        self->rate_limited++;
}
