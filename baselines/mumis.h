/* MU-Mis (baselines/mumis.c): the §6.2 stopping rule, exposed for the unit tests. */
#ifndef BL_MUMIS_H
#define BL_MUMIS_H

enum { BL_MUMIS_STOP_GAP, BL_MUMIS_STOP_DELTA, BL_MUMIS_STOP_NONE };

/* After the step of an iteration whose pre-step loss was Lt (L0 that of
 * iteration 0, n = |D_f|): 1 when (L0 − Lt)/n ≥ δ, with δ = L0/n for
 * BL_MUMIS_STOP_GAP (so: stop once Lt ≤ 0), δ = delta for
 * BL_MUMIS_STOP_DELTA; never for BL_MUMIS_STOP_NONE. */
int bl_mumis_stop(int rule, double L0, double Lt, int n, double delta);

#endif
