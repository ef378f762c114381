/* The statistics of a set of timings (or any measurements): the one helper
 * every command and the report use.  No core dependency. */
#ifndef MB_STATS_H
#define MB_STATS_H

typedef struct {
  double med, min, max, mean, std;   /* std: population (ddof = 0); all NaN when n = 0 */
  int n;
} mb_stats;

/* Statistics of v[0..n) (v is not modified); non-finite values are skipped. */
mb_stats mb_stats_of(const double *v, int n);

#endif
