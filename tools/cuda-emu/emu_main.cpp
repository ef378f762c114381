/* tools/cuda-kernel-check.cu on the host emulation (tools/cuda-emu/run.sh): its batch-norm,
 * forgetting-update, layer-norm, softmax and GELU checks at small shapes and at a ResNet
 * layer's batch norm and a Swin stage's layer norm; first, that the emulation stops a
 * block whose threads do not all reach a __syncthreads. */
#include "cuda_emu.h"
#include <cuda_runtime.h>
#include <cstdlib>
#include <cstdio>
#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
/* the runtime calls come from runtime.cpp */
#define main tool_main
#include "cuda-kernel-check.cu"
#undef main

/* thread 0 returns while the others wait: undefined on a GPU, a stop here */
__global__ void divergent_k(int *x)
{
  if (threadIdx.x == 0) return;
  __syncthreads();
  x[threadIdx.x] = 1;
}

static void divergence_case()
{
  pid_t p = fork();
  if (p == 0) {
    int fd = open("/dev/null", O_WRONLY);
    if (fd >= 0) dup2(fd, 2);
    int x[64] = {0};
    emu_launch(divergent_k, dim3(1), dim3(64), 0, (cudaStream_t)0, x);
    _exit(0);
  }
  int st = 0;
  bool caught = p > 0 && waitpid(p, &st, 0) == p && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
  printf("%s emu: a divergent __syncthreads stops the run\n", caught ? "ok  " : "FAIL");
  if (!caught) g_fail++;
}

int main()
{
  divergence_case();
  bn_case(4, 64, 64, 0.5f, 2.0f);
  bn_case(8, 32, 16, 0.5f, 2.0f);
  bn_case(2, 4, 12544, 0.0f, 1.0f);
  bn_case(3, 16, 231, 100.0f, 1.0f);
  bn_case(7, 512, 1, 0.0f, 1.0f);
  bn_case(5, 2, 8193, 0.0f, 1.0f);
  bn_case(9000, 3, 1, 0.0f, 1.0f);
  bn_case(2, 3, 5, 0.0f, 1.0f);
  bn_case(32, 8, 784, 0.0f, 1.0f);
  std::vector<size_t> small_mlp = {0, 7840, 7850, 7950, 7960};
  std::vector<size_t> odd = {0, 1, 8193, 8193, 9000, 30001, 30002, 40000};
  forget_case("mlp_small", small_mlp, 0, 1e-3f, 10.0f);
  forget_case("odd_special", odd, 1, 1e-3f, 10.0f);
  forget_case("odd_alpha_lambda1", odd, 0, 1e-3f, 1e6f);
  forget_case("small_class_counts", small_mlp, 0, 1e-3f, 10.0f, 1.0f / 6000.0f, 1.0f / 54000.0f);
  forget_case("odd_special_counts", odd, 1, 1e-3f, 10.0f, 1.0f / 7.0f, 1.0f / 3.0f);
  ln_case(64, 96, 0.0f, 1.0f);
  ln_case(70, 300, 0.5f, 2.0f);
  ln_case(37, 1, 0.0f, 1.0f);
  ln_case(5, 1000, 100.0f, 1.0f);
  ln_case(9, 33, 0.0f, 1.0f);
  ln_case(392, 768, 0.0f, 1.0f);
  softmax_case(98, 49, 3.0f);
  softmax_case(7, 1000, 10.0f);
  softmax_case(5, 1, 1.0f);
  softmax_case(3, 4097, 1.0f);
  gelu_case(20001);
  printf("%s: %d failure(s), %ld launches\n", g_fail ? "FAIL" : "PASS", g_fail, emu_launches);
  return g_fail != 0;
}
