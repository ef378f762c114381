/* Per-data-set λ1, λ2 and t_mix of the mnemonic-code method. */
#include "core/hparams.h"

#include <string.h>

static const mb_hparams k_rows[] = {
  /* the paper's rows come first: they are the fallbacks */
  {"mnist", "mlp", 0, 0.1, 1e-3, 10.0, "authors' conf/mnist.yaml"},
  {"cifar-10", "resnet18", 64, 0.3, 1e-5, 1e4, "authors' conf/cifar10.yaml"},
  /* The 784-1000-10 sigmoid MLP trained 60 epochs with codes: λ2 = 0.1 takes A_R
   * 85.70 → 86.99 with E_F 19.8 → 100, MNIST's λ2 = 10 lowers A_R to 82.13 (after
   * 30 epochs: 84.86 with λ2 = 10, 85.53 and E_F 99.9 with λ2 = 0.1). */
  {"fashion-mnist", "mlp", 0, 0.1, 1e-3, 0.1, "selected by max A_R + E_F on the 60-epoch model"},
  /* Width-64 1-channel ResNet-18 trained 5 epochs (batch 32) on 300 per class (the
   * README's ResNet quickstart: test accuracy 84.70 %, A_R 84.56 and E_F 14 on the first
   * 100 test images per class), class 0, all 20 pairs λ1 1e-6..1e-3 × λ2 10..1e5: λ1 = 1e-4,
   * λ2 = 1e5 gives A_R 81.44, E_F 100 (the largest A_R + E_F); 1e-4, 1e4 82.00, 99;
   * 1e-4, 1e3 84.67, 69.  λ1 = 1e-3 breaks the network (A_R 23–53) and at λ1 = 1e-5,
   * λ2 >= 100 the ± choice keeps a collapsed candidate (A_R 11.11; specification §9). */
  {"fashion-mnist", "resnet18", 64, 0.1, 1e-4, 1e5, "selected by max A_R + E_F on the quickstart's 5-epoch subset model"},
};

const mb_hparams *mb_hparams_for(const char *dataset, const char *model)
{
  const mb_hparams *fallback = NULL;
  for (size_t i = 0; i < sizeof k_rows / sizeof k_rows[0]; i++) {
    if (strcmp(model, k_rows[i].model) != 0) continue;
    if (!fallback) fallback = &k_rows[i];
    if (dataset && strcmp(dataset, k_rows[i].dataset) == 0) return &k_rows[i];
  }
  return fallback ? fallback : &k_rows[0];
}

const mb_hparams *mb_hparams_row(const char *dataset, const char *model, int width)
{
  const mb_hparams *h = mb_hparams_for(dataset, model);
  if (!dataset || strcmp(h->dataset, dataset) != 0 || strcmp(h->model, model) != 0) return NULL;
  return h->width && strcmp(model, "resnet18") == 0 && width != h->width ? NULL : h;
}
