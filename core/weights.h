/* The weights container: named float32 tensors in PyTorch's state_dict naming, so
 * a model trained elsewhere (a user's pre-trained ResNet-18) can be brought in, and
 * a checkpoint's weights taken out (docs/specification.md §1.4).  One file:
 *
 *   mnemobench-weights 1\n
 *   NAME f32 D0,D1,... OFFSET\n      one line per tensor (OFFSET: bytes into the data)
 *   ...
 *   end\n
 *   data: the tensors' raw little-endian bytes
 *
 * Names and shapes are those of the model's parameter table (core/resnet.h,
 * core/mlp.h) in PyTorch's layout (conv [cout, cin, kh, kw], linear [out, in]); a
 * ResNet's BN layers add NAME.running_mean and NAME.running_var.  Entries named
 * *.num_batches_tracked (any dtype, i64 in PyTorch) are ignored; a Swin-T's
 * *.attn.relative_position_index buffers (i64, or f32) are checked against the index
 * the model uses and not stored (export leaves them out). */
#ifndef MB_WEIGHTS_H
#define MB_WEIGHTS_H

#include "core/checkpoint.h"

/* Reads the container at path into c, whose kind and configuration (cfg or rcfg,
 * n_classes) are already set: c->params (and for a ResNet run_mean, run_var) are
 * allocated and filled.  Every tensor of the model must be present exactly once
 * with its shape, and nothing else (but num_batches_tracked) may be there.  0, or
 * -1 with a one-line reason naming the tensor. */
int mb_weights_read(const char *path, mb_checkpoint *c, char *err, size_t len);

/* What `import` requires of the values mb_weights_read filled in: every weight
 * finite, every BN running mean a number and every running variance >= 0.  0, or
 * -1 with a one-line reason naming path and the first bad value. */
int mb_weights_check_values(const char *path, const mb_checkpoint *c, char *err, size_t len);

/* Writes c's weights (and BN running statistics) as a container, through a
 * temporary file and a rename.  0, or -1 with a one-line reason. */
int mb_weights_write(const char *path, const mb_checkpoint *c, char *err, size_t len);

#endif
