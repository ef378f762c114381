/* Vulkan backend internals shared by its files: the instance, buffers, the
 * command-recording frames and the pipeline cache. */
#ifndef MB_VK_INTERNAL_H
#define MB_VK_INTERNAL_H

#include "mb/backend.h"

#include <vulkan/vulkan.h>

#define MBVK_FRAMES 3          /* command buffers in the ring: record one while others run */
#define MBVK_SETS_PER_FRAME 512 /* descriptor sets per frame; a full frame is submitted */
#define MBVK_EARLY_SUBMIT 64   /* commands after which an idle queue gets the frame early */
#define MBVK_CHUNK_BYTES ((VkDeviceSize)4 << 20) /* standard staging chunk of a frame */

/* Element counts and offsets travel to the shaders as 32-bit values: every buffer is
 * capped at maxStorageBufferRange (a uint32_t), so no index reaches 2^32 bytes. */

typedef struct vk_buf {
  mb_buf base;               /* first member (mb_buf contract) */
  VkBuffer buf;
  VkDeviceMemory mem;
  VkDeviceSize size;         /* allocated: bytes rounded up to 16 (whole texels) */
  void *map;                 /* persistent mapping when host-visible and coherent */
  uint64_t use_serial;       /* the last frame that recorded a command touching it */
  struct vk_buf *prev, *next; /* live buffers, destroyed at close if still there */
} vk_buf;

/* Host-visible memory that lives as long as one frame: staging for transfers and
 * small device-read tables (segment offsets). */
typedef struct {
  VkBuffer buf;
  VkDeviceMemory mem;
  VkDeviceSize size, used;
  void *map;
} vk_chunk;

/* Objects whose destruction waits for a frame's fence. */
typedef struct {
  VkBuffer *bufs;
  VkDeviceMemory *mems;
  VkBufferView *views;
  VkQueryPool *queries;
  int nbufs, nmems, nviews, nqueries;
  int cbufs, cmems, cviews, cqueries;
} vk_graveyard;

typedef struct {
  VkCommandBuffer cb;
  VkFence fence;
  VkDescriptorPool pool;
  uint64_t serial;           /* increases with every frame begun; 0 = never used */
  int open;                  /* recording */
  int inflight;              /* submitted, fence not waited yet */
  unsigned cmds, sets;
  vk_chunk *chunks;
  int nchunks, cchunks;
  vk_graveyard dead;
} vk_frame;

/* One shader module (an embedded SPIR-V blob) and its layouts: one per line of
 * shaders/variants.def. */
typedef enum {
#define MB_VK_SHADER(id, name, source, bindings, defines) VKS_##id,
#include "variants.def"
  VKS__COUNT
} vk_shader_id;

#define MBVK_MAX_SPEC 8
#define MBVK_MAX_BINDINGS 8   /* batchnorm has 8 buffers */

typedef struct vk_pipe {
  struct vk_pipe *next;
  vk_shader_id shader;
  int nspec;
  uint32_t spec[MBVK_MAX_SPEC];
  VkPipeline pipeline;
} vk_pipe;

typedef struct {
  VkShaderModule module;
  VkDescriptorSetLayout dsl;
  VkPipelineLayout layout;
} vk_shader_state;

/* The SGEMM designs (gemm.c; docs/architecture.md, "Vulkan GEMM designs"). */
typedef enum {
  VK_GEMM_TILED,      /* shared-memory tiles: GPUs without the features below */
  VK_GEMM_TEXEL,      /* texel-buffer loads, no shared memory: CPU devices (lavapipe) */
  VK_GEMM_SUBGROUP,   /* A shared through subgroupShuffle: GPUs that have it */
  VK_GEMM_COOPMAT,    /* VK_NV_cooperative_matrix fragments, f32 accumulation */
} vk_gemm_design;

/* A fragment shape M×N×K of VK_NV_cooperative_matrix (subgroup scope, f32 C and D);
 * m == 0: none listed.  f32: A and B are f32; f16: A and B are f16 (split inputs). */
typedef struct {
  uint32_t f32_m, f32_n, f32_k;
  uint32_t f16_m, f16_n, f16_k;
  int enabled;               /* the extension and its feature are on in be->dev */
} vk_coopmat;

typedef struct vk_be {
  mb_backend base;           /* first member (mb_backend contract) */
  VkInstance instance;
  VkDebugUtilsMessengerEXT messenger;
  PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger;
  VkPhysicalDevice phys;
  VkPhysicalDeviceProperties props;
  VkPhysicalDeviceMemoryProperties memprops;
  VkDevice dev;
  VkQueue queue;
  uint32_t qfamily;
  uint32_t ts_valid_bits;    /* 0: no device timer */
  double ts_period_ns;
  uint32_t mem_device;       /* memory type of buffers */
  uint32_t mem_staging;      /* host-visible coherent type of chunks */
  int device_mapped;         /* buffers are host-visible: uploads/downloads by memcpy */
  vk_gemm_design gemm;       /* picked at open from the device's features (vk_device.c) */
  char gemm_why[192];        /* non-empty: the design MB_VK_GEMM forces is missing here, and
                              * every GEMM fails MB_UNSUPPORTED with this reason */
  uint32_t subgroup_size;    /* VkPhysicalDeviceSubgroupProperties */
  int subgroup_shuffle;      /* subgroupShuffle in compute shaders */
  vk_coopmat coopmat;        /* cooperative-matrix fragment shapes the device lists */
  VkDeviceSize texel_align;  /* byte alignment of texel-buffer view offsets */
  VkCommandPool cmdpool;
  vk_frame frames[MBVK_FRAMES];
  int cur;                   /* the frame that records next */
  uint64_t next_serial;
  vk_shader_state shaders[VKS__COUNT];
  vk_pipe *pipes;
  vk_buf *dummy;             /* bound where an optional view is absent */
  vk_buf *tmp;               /* device scratch (partials of two-pass reductions) */
  vk_buf *live;              /* every buffer not yet freed */
  struct mb_timer *timers;   /* every timer not yet freed */
  unsigned validation_msgs;
  int drop_barriers;         /* test only (MB_VK_DROP_BARRIERS): no barrier between commands */
} vk_be;

/* A descriptor: a whole buffer (storage) or a texel view. owner tracks use. */
typedef struct {
  VkBuffer buf;
  VkBufferView view;
  vk_buf *owner;
} vk_bind;

/* ---- vk_device.c ---- */
int vk_device_count(char *why, size_t why_len);
mb_status vk_device_open(vk_be *be, int device, char *why, size_t why_len);
void vk_device_close(vk_be *be);
const char *vk_gemm_design_name(vk_gemm_design d);   /* "tiled", "texel", ... */

/* ---- vk_memory.c ---- */
mb_status vk_alloc(mb_backend *be, size_t bytes, mb_buf **out);
void vk_free(mb_backend *be, mb_buf *buf);
void vk_upload(mb_backend *be, mb_view dst, const void *src, size_t bytes);
void vk_download(mb_backend *be, void *dst, mb_view src, size_t bytes);
void vk_copy(mb_backend *be, mb_view dst, mb_view src, size_t n);
void vk_fill(mb_backend *be, mb_view dst, size_t n, uint32_t bits);
int vk_memory_init(vk_be *be);
/* Host-visible scratch in the recording frame, valid until the frame completes. */
void *vk_scratch(vk_be *be, VkDeviceSize bytes, VkBuffer *buf, VkDeviceSize *off);
void vk_chunk_destroy(vk_be *be, vk_chunk *c);
/* A buffer outside the caller's list (sticky error and NULL on failure). */
vk_buf *vk_buf_create(vk_be *be, size_t bytes);
void vk_buf_destroy(vk_be *be, vk_buf *b);   /* now */
/* Unlists a caller's buffer; destroys it now, or after the frames that use it. */
void vk_buf_release(vk_be *be, vk_buf *b);

/* ---- vk_pipeline.c ---- */
VkPipeline vk_pipeline(vk_be *be, vk_shader_id s, const uint32_t *spec, int nspec);
VkPipelineLayout vk_pipeline_layout(vk_be *be, vk_shader_id s);
VkDescriptorSetLayout vk_set_layout(vk_be *be, vk_shader_id s);
int vk_shader_binding_count(vk_shader_id s);
int vk_shader_is_texel(vk_shader_id s, int binding);
void vk_pipelines_destroy(vk_be *be);

/* ---- vk_cmd.c ---- */
VkCommandBuffer vk_cmd(vk_be *be);           /* the recording frame's command buffer */
vk_frame *vk_cur_frame(vk_be *be);
void vk_cmd_done(vk_be *be);                 /* after a recorded command: barrier, maybe submit */
void vk_dispatch(vk_be *be, vk_shader_id s, const uint32_t *spec, int nspec, const vk_bind *b,
                 int nb, const void *push, uint32_t push_bytes, uint32_t gx, uint32_t gy,
                 uint32_t gz);
void vk_touch(vk_be *be, vk_buf *b);         /* b is used by the recording frame */
int vk_buf_busy(vk_be *be, const vk_buf *b); /* recorded or running work uses b */
void vk_flush(vk_be *be);                    /* submit the recording frame, no wait */
void vk_wait_serial(vk_be *be, uint64_t serial); /* submit and wait up to that frame */
void vk_sync(mb_backend *be);
void vk_defer_view(vk_be *be, VkBufferView v);
void vk_defer_buffer(vk_be *be, VkBuffer b, VkDeviceMemory m);
void vk_defer_query(vk_be *be, VkQueryPool q);
void vk_frames_destroy(vk_be *be);
int vk_frames_init(vk_be *be);
mb_timer *vk_timer_begin(mb_backend *be);
void vk_timer_end(mb_backend *be, mb_timer *t);
double vk_timer_ms(mb_backend *be, mb_timer *t);
void vk_timer_free(mb_backend *be, mb_timer *t);

/* ---- vk_backend.c ---- */
extern const mb_backend_ops mb_vulkan_ops;
/* Records the first error (sticky) as "<op>: <message> (<VkResult name>)". */
void vk_fail(vk_be *be, mb_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vk_check(vk_be *be, VkResult r, const char *what);   /* 1 if r is VK_SUCCESS */
const char *vk_result_name(VkResult r);
vk_bind vk_bind_view(mb_view v);
vk_bind vk_bind_none(vk_be *be);            /* the dummy buffer */
uint32_t vk_groups(size_t n, uint32_t per); /* ceil(n / per) */
/* reduce.c: the device scratch be->tmp (partials of two-pass reductions), at least n
 * f32 elements, kept between calls; NULL after a recorded failure.  The barrier after
 * every dispatch orders its users. */
vk_buf *vk_temp(vk_be *be, size_t n);

/* ---- op families (gemm.c, eltwise.c, reduce.c, ...): the required ops of mb/ops.def,
 * as vk_<op> ---- */
#define MB_OPS_PREFIX vk_
#include "mb/ops_impl.h"
/* forget.c: the optional fused forgetting update (shaders/forget.comp) */
void vk_forget_update(mb_backend *be, const mb_forget_args *a);

static inline vk_be *VKB(mb_backend *be) { return (vk_be *)be; }
static inline vk_buf *VKBUF(mb_buf *b) { return (vk_buf *)b; }

#endif
