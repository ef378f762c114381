/* λ1, λ2 of the mnemonic-code method chosen from the codes alone, for a data set
 * and model without a row in core/hparams.c (docs/specification.md §2.4, the
 * suite's own rule, not the paper's). */
#ifndef MB_LAMBDA_CODES_H
#define MB_LAMBDA_CODES_H

#include "core/model.h"

/* The paper's grid (§2.4): λ1 ∈ {1e-6 … 1}, λ2 ∈ {0.1 … 1e5}, ascending. */
#define MB_LAMBDA_GRID_N 7
extern const double mb_lambda1_grid[MB_LAMBDA_GRID_N], mb_lambda2_grid[MB_LAMBDA_GRID_N];

typedef struct {
  double lambda1, lambda2;              /* the choice */
  double first_lambda1, first_lambda2;  /* the smallest pair that separates the codes */
  double score;     /* the ± choice's score on the codes at the smallest pair; 2 = separated */
  int tried;        /* grid pairs scored */
} mb_lambda_choice;

/* Walks the grid λ1 ascending and, for each λ1, λ2 ascending, to the first
 * pair whose ± choice (§2.3) scores 2 on the codes: every forget code
 * misclassified, every remaining code right.  The choice is that pair with λ1
 * one grid step (a decade) larger, when the codes stay separated there, else
 * the pair itself.  If no pair separates the codes, the first pair with the
 * highest score.  One FIM of the codes serves every pair; the model's weights
 * are left as they were.  0, or -1 with the backend's error set. */
int mb_lambda_from_codes(mb_model *md, mb_view codes, int n_classes, const int *forget,
                         int n_forget, mb_lambda_choice *out);

#endif
