/* Per-data-set, per-model settings of the mnemonic-code method (docs/specification.md
 * §2.4): the authors' configuration files where they exist (MNIST MLP, CIFAR-10
 * ResNet-18), otherwise the values this suite selected with the paper's own
 * protocol (max A_R + E_F over the λ grid, on test metrics as the paper does). */
#ifndef MB_HPARAMS_H
#define MB_HPARAMS_H

typedef struct {
  const char *dataset;   /* data set name as the loader reports it */
  const char *model;     /* "mlp" or "resnet18" */
  int width;             /* the ResNet width its λ's were found on (0: any model of the kind) */
  double t_mix, lambda1, lambda2;
  const char *source;    /* where the values come from */
} mb_hparams;

/* The row for a data set and model; an unknown data set gets the paper's row
 * for that model (MNIST for the MLP, CIFAR-10 for ResNet-18). */
const mb_hparams *mb_hparams_for(const char *dataset, const char *model);
/* The data set's own row for a model of this width (ResNet; ignored for an
 * MLP), or NULL: then λ1 and λ2 come from the codes (core/lambda_codes.h)
 * unless the user sets them.  A narrower ResNet has other Fisher magnitudes,
 * so a row found at width 64 does not carry over. */
const mb_hparams *mb_hparams_row(const char *dataset, const char *model, int width);

#endif
