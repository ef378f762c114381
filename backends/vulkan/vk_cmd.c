/* Command recording, submission, ordering and timers.
 *
 * Ops are recorded into the command buffer of the current frame.  A frame is
 * submitted by sync(), a download or timer read that needs its results, when its
 * descriptor pool is full, or early when the queue has gone idle (so the device
 * works while the host records).  A ring of frames lets the host record one while
 * others run; reusing a frame waits for its fence and then frees what it kept alive
 * (staging memory, released buffers, views, query pools).
 *
 * Ordering: a global compute/transfer memory barrier follows every command, and
 * every frame starts with one, whose first scope reaches back into the previously
 * submitted frames.  Correct before fast: hazard tracking could drop most of them. */
#include "vk_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STAGES (VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT)
#define WRITES (VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT)
#define ACCESSES (VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | \
                  VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT)
#define MAX_CMDS 4096   /* copies and fills take no descriptor set: bound the frame anyway */

struct mb_timer {
  VkQueryPool pool;          /* two timestamps; VK_NULL_HANDLE with the host clock */
  uint64_t serial;           /* the last frame that recorded one of its marks */
  int state;                 /* 0 new, 1 begun, 2 ended */
  double host_ms[2];
  struct mb_timer *prev, *next;
};

static void barrier(VkCommandBuffer cb, VkPipelineStageFlags dst_stages, VkAccessFlags dst_access)
{
  VkMemoryBarrier mb = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = WRITES,
    .dstAccessMask = dst_access,
  };
  vkCmdPipelineBarrier(cb, STAGES, dst_stages, 0, 1, &mb, 0, NULL, 0, NULL);
}

static void grave_push(vk_be *be, void **arr, int *n, int *cap, size_t elem, const void *item)
{
  if (*n == *cap) {
    int nc = *cap ? 2 * *cap : 16;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p) {
      vk_fail(be, MB_OOM, "vulkan: out of host memory");
      return;
    }
    *arr = p;
    *cap = nc;
  }
  memcpy((char *)*arr + (size_t)*n * elem, item, elem);
  (*n)++;
}

static void grave_empty(vk_be *be, vk_graveyard *g)
{
  for (int i = 0; i < g->nviews; i++) vkDestroyBufferView(be->dev, g->views[i], NULL);
  for (int i = 0; i < g->nbufs; i++) vkDestroyBuffer(be->dev, g->bufs[i], NULL);
  for (int i = 0; i < g->nmems; i++) vkFreeMemory(be->dev, g->mems[i], NULL);
  for (int i = 0; i < g->nqueries; i++) vkDestroyQueryPool(be->dev, g->queries[i], NULL);
  g->nviews = g->nbufs = g->nmems = g->nqueries = 0;
}

/* The frame whose completion releases objects used up to now: the recording one,
 * or else the newest in flight.  NULL when nothing is pending. */
static vk_frame *latest_pending(vk_be *be)
{
  vk_frame *best = NULL;
  for (int i = 0; i < MBVK_FRAMES; i++) {
    vk_frame *f = &be->frames[i];
    if ((f->open || f->inflight) && (!best || f->serial > best->serial)) best = f;
  }
  return best;
}

void vk_defer_view(vk_be *be, VkBufferView v)
{
  vk_frame *f = latest_pending(be);
  if (!f) { vkDestroyBufferView(be->dev, v, NULL); return; }
  grave_push(be, (void **)&f->dead.views, &f->dead.nviews, &f->dead.cviews, sizeof v, &v);
}

void vk_defer_buffer(vk_be *be, VkBuffer b, VkDeviceMemory m)
{
  vk_frame *f = latest_pending(be);
  if (!f) {
    vkDestroyBuffer(be->dev, b, NULL);
    vkFreeMemory(be->dev, m, NULL);
    return;
  }
  grave_push(be, (void **)&f->dead.bufs, &f->dead.nbufs, &f->dead.cbufs, sizeof b, &b);
  grave_push(be, (void **)&f->dead.mems, &f->dead.nmems, &f->dead.cmems, sizeof m, &m);
}

void vk_defer_query(vk_be *be, VkQueryPool q)
{
  vk_frame *f = latest_pending(be);
  if (!f) { vkDestroyQueryPool(be->dev, q, NULL); return; }
  grave_push(be, (void **)&f->dead.queries, &f->dead.nqueries, &f->dead.cqueries, sizeof q, &q);
}

/* Waits for every submitted frame up to `serial`, oldest first. */
static int wait_upto(vk_be *be, uint64_t serial)
{
  for (;;) {
    vk_frame *f = NULL;
    for (int i = 0; i < MBVK_FRAMES; i++) {
      vk_frame *g = &be->frames[i];
      if (g->inflight && g->serial <= serial && (!f || g->serial < f->serial)) f = g;
    }
    if (!f) return 1;
    VkResult r = vkWaitForFences(be->dev, 1, &f->fence, VK_TRUE, UINT64_MAX);
    f->inflight = 0;   /* even on error: the fence is not waited on again */
    if (!vk_check(be, r, "vkWaitForFences")) return 0;
  }
}

/* Frees what the completed frame kept alive and readies it for recording. */
static void recycle(vk_be *be, vk_frame *f)
{
  grave_empty(be, &f->dead);
  vkResetDescriptorPool(be->dev, f->pool, 0);
  /* keep the standard-size staging chunks, give back the one-off big ones */
  int keep = 0;
  for (int i = 0; i < f->nchunks; i++) {
    vk_chunk *c = &f->chunks[i];
    if (c->size > MBVK_CHUNK_BYTES || keep >= 2) {
      vk_chunk_destroy(be, c);
    } else {
      c->used = 0;
      f->chunks[keep++] = *c;
    }
  }
  f->nchunks = keep;
  f->cmds = f->sets = 0;
}

vk_frame *vk_cur_frame(vk_be *be) { return &be->frames[be->cur]; }

VkCommandBuffer vk_cmd(vk_be *be)
{
  if (be->base.status != MB_OK) return VK_NULL_HANDLE;
  vk_frame *f = &be->frames[be->cur];
  /* A full frame is submitted here, at the start of an op, never between an op's
   * scratch allocation and the dispatch that reads it: both stay in one frame. */
  if (f->open && f->sets + 2 > MBVK_SETS_PER_FRAME) {
    vk_flush(be);
    f = &be->frames[be->cur];
  }
  if (f->open) return f->cb;
  if (f->inflight && !wait_upto(be, f->serial)) return VK_NULL_HANDLE;
  recycle(be, f);
  VkCommandBufferBeginInfo bi = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
    .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
  };
  if (!vk_check(be, vkBeginCommandBuffer(f->cb, &bi), "vkBeginCommandBuffer")) return VK_NULL_HANDLE;
  f->open = 1;
  f->serial = ++be->next_serial;
  /* orders this frame after everything submitted before it */
  barrier(f->cb, STAGES, ACCESSES);
  return f->cb;
}

void vk_touch(vk_be *be, vk_buf *b)
{
  if (b) b->use_serial = be->frames[be->cur].serial;
}

/* Is the frame with this serial recorded but unfinished?  Polls its fence. */
static int serial_pending(vk_be *be, uint64_t serial)
{
  if (serial == 0) return 0;
  for (int i = 0; i < MBVK_FRAMES; i++) {
    vk_frame *f = &be->frames[i];
    if (f->serial != serial) continue;
    if (f->open) return 1;
    if (!f->inflight) return 0;
    if (vkGetFenceStatus(be->dev, f->fence) != VK_SUCCESS) return 1;
    wait_upto(be, serial);   /* signalled: retire it and anything older */
    return 0;
  }
  return 0;   /* recycled long ago */
}

int vk_buf_busy(vk_be *be, const vk_buf *b) { return serial_pending(be, b->use_serial); }

void vk_flush(vk_be *be)
{
  vk_frame *f = &be->frames[be->cur];
  if (!f->open) return;
  f->open = 0;
  /* results become readable by the host after the fence */
  barrier(f->cb, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
  if (!vk_check(be, vkEndCommandBuffer(f->cb), "vkEndCommandBuffer")) return;
  if (be->base.status != MB_OK) return;   /* never submit after an error */
  if (!vk_check(be, vkResetFences(be->dev, 1, &f->fence), "vkResetFences")) return;
  VkSubmitInfo si = {
    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
    .commandBufferCount = 1,
    .pCommandBuffers = &f->cb,
  };
  if (!vk_check(be, vkQueueSubmit(be->queue, 1, &si, f->fence), "vkQueueSubmit")) return;
  f->inflight = 1;
  be->cur = (be->cur + 1) % MBVK_FRAMES;
}

void vk_wait_serial(vk_be *be, uint64_t serial)
{
  vk_frame *f = &be->frames[be->cur];
  if (f->open && f->serial <= serial) vk_flush(be);
  wait_upto(be, serial);
}

void vk_sync(mb_backend *mbe)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK) return;
  vk_flush(be);
  wait_upto(be, UINT64_MAX);
}

static int queue_idle(vk_be *be)
{
  for (int i = 0; i < MBVK_FRAMES; i++) {
    vk_frame *f = &be->frames[i];
    if (f->inflight && vkGetFenceStatus(be->dev, f->fence) != VK_SUCCESS) return 0;
  }
  return 1;
}

void vk_cmd_done(vk_be *be)
{
  vk_frame *f = &be->frames[be->cur];
  if (!f->open) return;
  if (!be->drop_barriers) barrier(f->cb, STAGES, ACCESSES);
  f->cmds++;
  if (f->cmds >= MAX_CMDS || (f->cmds % MBVK_EARLY_SUBMIT == 0 && queue_idle(be)))
    vk_flush(be);
}

void vk_dispatch(vk_be *be, vk_shader_id s, const uint32_t *spec, int nspec, const vk_bind *b,
                 int nb, const void *push, uint32_t push_bytes, uint32_t gx, uint32_t gy,
                 uint32_t gz)
{
  if (be->base.status != MB_OK || gx == 0 || gy == 0 || gz == 0) return;
  VkPipeline pipe = vk_pipeline(be, s, spec, nspec);
  if (!pipe || !vk_cmd(be)) return;
  vk_frame *f = &be->frames[be->cur];
  VkDescriptorSetLayout dsl = vk_set_layout(be, s);
  VkDescriptorSetAllocateInfo ai = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
    .descriptorPool = f->pool,
    .descriptorSetCount = 1,
    .pSetLayouts = &dsl,
  };
  VkDescriptorSet set;
  /* vk_cmd() left room in the pool: sized for MBVK_SETS_PER_FRAME sets of any shader */
  if (!vk_check(be, vkAllocateDescriptorSets(be->dev, &ai, &set), "vkAllocateDescriptorSets")) return;
  f->sets++;

  VkWriteDescriptorSet w[MBVK_MAX_BINDINGS];
  VkDescriptorBufferInfo bi[MBVK_MAX_BINDINGS];
  for (int i = 0; i < nb; i++) {
    int texel = vk_shader_is_texel(s, i);
    bi[i] = (VkDescriptorBufferInfo){.buffer = b[i].buf, .offset = 0, .range = VK_WHOLE_SIZE};
    w[i] = (VkWriteDescriptorSet){
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstSet = set,
      .dstBinding = (uint32_t)i,
      .descriptorCount = 1,
      .descriptorType = texel ? VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER
                              : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .pBufferInfo = texel ? NULL : &bi[i],
      .pTexelBufferView = texel ? &b[i].view : NULL,
    };
    vk_touch(be, b[i].owner);
  }
  vkUpdateDescriptorSets(be->dev, (uint32_t)nb, w, 0, NULL);

  VkCommandBuffer cb = f->cb;
  VkPipelineLayout layout = vk_pipeline_layout(be, s);
  vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipe);
  vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, layout, 0, 1, &set, 0, NULL);
  if (push_bytes) vkCmdPushConstants(cb, layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
  /* grids above the device limit are split; the base offsets gl_WorkGroupID */
  const uint32_t *lim = be->props.limits.maxComputeWorkGroupCount;
  for (uint32_t z = 0; z < gz; z += lim[2])
    for (uint32_t y = 0; y < gy; y += lim[1])
      for (uint32_t x = 0; x < gx; x += lim[0]) {
        uint32_t cx = gx - x < lim[0] ? gx - x : lim[0];
        uint32_t cy = gy - y < lim[1] ? gy - y : lim[1];
        uint32_t cz = gz - z < lim[2] ? gz - z : lim[2];
        /* plain dispatches where the base is 0: synchronisation validation (layer 1.3.239)
         * tracks vkCmdDispatch but not vkCmdDispatchBase */
        if (x == 0 && y == 0 && z == 0) vkCmdDispatch(cb, cx, cy, cz);
        else vkCmdDispatchBase(cb, x, y, z, cx, cy, cz);
      }
  vk_cmd_done(be);
}

/* ---- timers ---- */

static double host_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

mb_timer *vk_timer_begin(mb_backend *mbe)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK) return NULL;
  mb_timer *t = calloc(1, sizeof *t);
  if (!t) {
    vk_fail(be, MB_OOM, "timer_begin: out of host memory");
    return NULL;
  }
  if (be->ts_valid_bits) {
    VkQueryPoolCreateInfo qi = {
      .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
      .queryType = VK_QUERY_TYPE_TIMESTAMP,
      .queryCount = 2,
    };
    VkCommandBuffer cb;
    if (!vk_check(be, vkCreateQueryPool(be->dev, &qi, NULL, &t->pool), "timer_begin: vkCreateQueryPool") ||
        !(cb = vk_cmd(be))) {
      if (t->pool) vkDestroyQueryPool(be->dev, t->pool, NULL);
      free(t);
      return NULL;
    }
    vkCmdResetQueryPool(cb, t->pool, 0, 2);
    /* bottom of pipe: written once every earlier command has finished */
    vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, t->pool, 0);
    t->serial = vk_cur_frame(be)->serial;
  } else {
    vk_sync(mbe);   /* host clock: the interval must start with an idle queue */
    t->host_ms[0] = host_ms();
  }
  t->state = 1;
  t->next = be->timers;
  if (be->timers) be->timers->prev = t;
  be->timers = t;
  return t;
}

void vk_timer_end(mb_backend *mbe, mb_timer *t)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || !t || t->state != 1) return;
  if (t->pool) {
    VkCommandBuffer cb = vk_cmd(be);
    if (!cb) return;
    vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, t->pool, 1);
    t->serial = vk_cur_frame(be)->serial;
  } else {
    vk_sync(mbe);
    t->host_ms[1] = host_ms();
  }
  t->state = 2;
}

double vk_timer_ms(mb_backend *mbe, mb_timer *t)
{
  vk_be *be = VKB(mbe);
  if (mbe->status != MB_OK || !t || t->state != 2) return -1.0;
  if (!t->pool) return t->host_ms[1] - t->host_ms[0];
  vk_wait_serial(be, t->serial);
  if (mbe->status != MB_OK) return -1.0;
  uint64_t ts[2];
  VkResult r = vkGetQueryPoolResults(be->dev, t->pool, 0, 2, sizeof ts, ts, sizeof ts[0],
                                     VK_QUERY_RESULT_64_BIT);
  if (r != VK_SUCCESS) return -1.0;
  uint64_t mask = be->ts_valid_bits >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << be->ts_valid_bits) - 1);
  uint64_t ticks = (ts[1] - ts[0]) & mask;   /* also right across one wrap of the counter */
  return (double)ticks * be->ts_period_ns * 1e-6;
}

void vk_timer_free(mb_backend *mbe, mb_timer *t)
{
  vk_be *be = VKB(mbe);
  if (!t) return;
  if (t->prev) t->prev->next = t->next;
  else if (be->timers == t) be->timers = t->next;
  if (t->next) t->next->prev = t->prev;
  if (t->pool) {
    if (serial_pending(be, t->serial)) vk_defer_query(be, t->pool);
    else vkDestroyQueryPool(be->dev, t->pool, NULL);
  }
  free(t);
}

/* ---- frames ---- */

int vk_frames_init(vk_be *be)
{
  VkCommandPoolCreateInfo pci = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
    .queueFamilyIndex = be->qfamily,
  };
  if (!vk_check(be, vkCreateCommandPool(be->dev, &pci, NULL, &be->cmdpool), "vkCreateCommandPool"))
    return 0;
  VkDescriptorPoolSize sizes[] = {
    {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, MBVK_SETS_PER_FRAME * MBVK_MAX_BINDINGS},
    {VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER, MBVK_SETS_PER_FRAME * 3},
  };
  VkDescriptorPoolCreateInfo dpi = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
    .maxSets = MBVK_SETS_PER_FRAME,
    .poolSizeCount = 2,
    .pPoolSizes = sizes,
  };
  VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  for (int i = 0; i < MBVK_FRAMES; i++) {
    vk_frame *f = &be->frames[i];
    VkCommandBufferAllocateInfo ai = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
      .commandPool = be->cmdpool,
      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
      .commandBufferCount = 1,
    };
    if (!vk_check(be, vkAllocateCommandBuffers(be->dev, &ai, &f->cb), "vkAllocateCommandBuffers") ||
        !vk_check(be, vkCreateFence(be->dev, &fci, NULL, &f->fence), "vkCreateFence") ||
        !vk_check(be, vkCreateDescriptorPool(be->dev, &dpi, NULL, &f->pool), "vkCreateDescriptorPool"))
      return 0;
  }
  return 1;
}

/* At close, after the device is idle: everything the frames and timers still hold. */
void vk_frames_destroy(vk_be *be)
{
  while (be->timers) {
    mb_timer *t = be->timers;
    be->timers = t->next;
    if (t->pool) vkDestroyQueryPool(be->dev, t->pool, NULL);
    free(t);
  }
  for (int i = 0; i < MBVK_FRAMES; i++) {
    vk_frame *f = &be->frames[i];
    f->open = f->inflight = 0;
    grave_empty(be, &f->dead);
    free(f->dead.bufs);
    free(f->dead.mems);
    free(f->dead.views);
    free(f->dead.queries);
    for (int c = 0; c < f->nchunks; c++) vk_chunk_destroy(be, &f->chunks[c]);
    free(f->chunks);
    if (f->pool) vkDestroyDescriptorPool(be->dev, f->pool, NULL);
    if (f->fence) vkDestroyFence(be->dev, f->fence, NULL);
    memset(f, 0, sizeof *f);
  }
  if (be->cmdpool) vkDestroyCommandPool(be->dev, be->cmdpool, NULL);
  be->cmdpool = VK_NULL_HANDLE;
}
