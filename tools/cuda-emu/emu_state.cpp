/* The emulation's state and scheduler (cuda_emu.h): the built-in indices, the launch
 * count, the one shared-memory buffer that blocks, run one after another, all use, and
 * the fibers that run a block's threads.  A block runs in rounds: each fiber in turn
 * runs until its next __syncthreads or its end; a round where some wait and some ended
 * is a divergent barrier.  One launch at a time, from one host thread. */
#include "cuda_emu.h"

#include <sys/mman.h>
#include <ucontext.h>

#include <csetjmp>

#include <cstdio>
#include <cstdlib>

thread_local EmuIdx threadIdx, blockIdx;
EmuIdx blockDim, gridDim;
long emu_launches;
__attribute__((aligned(16))) unsigned char mb_cu_smem[1 << 16];

namespace {
enum { FRESH, READY, WAITING, DONE };
struct Fiber {
  ucontext_t start;   /* made once per block; entered with setcontext */
  jmp_buf at;         /* where it waits at __syncthreads */
  int state;
};
constexpr size_t STACK = 256 << 10;   /* reserved per thread; only touched pages are used */
constexpr unsigned MAX_THREADS = 1024;
jmp_buf sched;
Fiber fibers[MAX_THREADS];
char *stacks;
unsigned cur;
const std::function<void()> *body;

[[noreturn]] void fail(const char *what)
{
  fprintf(stderr, "cuda-emu: %s\n", what);
  abort();
}

void trampoline()
{
  (*body)();
  fibers[cur].state = DONE;
  _longjmp(sched, 1);
}

/* Runs fiber t until its next __syncthreads or its end.  Switches are _setjmp/_longjmp
 * (no system call), except a fiber's start, which is setcontext onto its own stack:
 * swapcontext's signal-mask calls took most of the time. */
__attribute__((noinline)) void run_fiber(unsigned t)
{
  cur = t;
  int fresh = fibers[t].state == FRESH;
  fibers[t].state = READY;
  if (_setjmp(sched) == 0) {
    if (fresh) setcontext(&fibers[t].start);
    else _longjmp(fibers[t].at, 1);
    fail("setcontext failed");
  }
}
}

void emu_syncthreads()
{
  fibers[cur].state = WAITING;
  if (_setjmp(fibers[cur].at) == 0) _longjmp(sched, 1);
}

void emu_run(dim3 g, dim3 b, size_t shmem, const std::function<void()> &f)
{
  const unsigned nt = b.x * b.y * b.z;
  if (nt == 0 || nt > MAX_THREADS) fail("a block of 0 or more than 1024 threads");
  if (g.x == 0 || g.y == 0 || g.z == 0) fail("an empty grid");
  if (shmem > sizeof mb_cu_smem) fail("more dynamic shared memory than the emulation has");
  if (!stacks) {
    void *p = mmap(nullptr, STACK * MAX_THREADS, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) fail("no memory for the thread stacks");
    stacks = static_cast<char *>(p);
    for (unsigned t = 0; t < MAX_THREADS; t++)
      if (getcontext(&fibers[t].start) != 0) fail("getcontext failed");
  }
  gridDim = {g.x, g.y, g.z};
  blockDim = {b.x, b.y, b.z};
  body = &f;
  char msg[160];
  for (unsigned bz = 0; bz < g.z; bz++)
    for (unsigned by = 0; by < g.y; by++)
      for (unsigned bx = 0; bx < g.x; bx++) {
        blockIdx = {bx, by, bz};
        for (unsigned t = 0; t < nt; t++) {
          ucontext_t *c = &fibers[t].start;
          c->uc_stack.ss_sp = stacks + (size_t)t * STACK;
          c->uc_stack.ss_size = STACK;
          c->uc_link = nullptr;   /* trampoline never returns */
          makecontext(c, trampoline, 0);
          fibers[t].state = FRESH;
        }
        for (;;) {
          unsigned waiting = 0, done = 0;
          for (unsigned t = 0; t < nt; t++) {
            if (fibers[t].state == DONE) {
              done++;
              continue;
            }
            threadIdx = {t % b.x, t / b.x % b.y, t / (b.x * b.y)};
            run_fiber(t);
            if (fibers[t].state == DONE) done++;
            else waiting++;
          }
          if (!waiting) break;
          if (done) {
            snprintf(msg, sizeof msg,
                     "block (%u,%u,%u): %u thread(s) wait at __syncthreads, %u returned", bx, by,
                     bz, waiting, done);
            fail(msg);
          }
        }
      }
}
