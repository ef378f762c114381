/* The emulation's state (cuda_emu.h): the built-in indices, the block barrier, the launch
 * count and the one shared-memory buffer that blocks, run one after another, all use. */
#include "cuda_emu.h"

thread_local EmuIdx threadIdx, blockIdx;
EmuIdx blockDim, gridDim;
thread_local std::barrier<> *emu_bar;
long emu_launches;
__attribute__((aligned(16))) unsigned char mb_cu_smem[1 << 16];
