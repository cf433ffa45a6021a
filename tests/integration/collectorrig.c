/*
 * collectorrig.c — see collectorrig.h.
 */
#include "collectorrig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

rig_t *rig_start(void **state, const char *const *sim_args, const char *const *sets)
{
    rig_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    *state = r;
    r->sim = simproc_start(sim_args);
    assert_non_null(r->sim);
    r->bb = fakebb_new(true);
    assert_non_null(r->bb);
    collectorproc_opts_t o = {
        .sim = r->sim,
        .market = MARKET_SPOT,
        .frames = fakebb_frames_endpoint(r->bb),
        .control = fakebb_control_endpoint(r->bb),
        .status = fakebb_status_endpoint(r->bb),
        .sets = sets,
    };
    r->col = collectorproc_start(&o);
    assert_non_null(r->col);
    return r;
}

int rig_stop(void **state)
{
    rig_t *r = *state;
    if (!r)
        return 0;
    collectorproc_destroy(&r->col);
    if (r->bb)
        fakebb_report(r->bb, 20);
    fakebb_destroy(&r->bb);
    simproc_stop(&r->sim);
    free(r);
    *state = NULL;
    return 0;
}

void rig_assert_clean(rig_t *r)
{
    if (fakebb_error_count(r->bb) || fakebb_gap_count(r->bb)) {
        fakebb_report(r->bb, 20);
        fail_msg("%zu frame errors and %zu sequence gaps", fakebb_error_count(r->bb),
                 fakebb_gap_count(r->bb));
    }
}
