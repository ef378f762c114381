/* Instance, physical-device enumeration and logical-device creation.
 *
 * Every physical device the loader reports is listed, sorted (GPUs first, then by
 * name and UUID) so that an index names the same device from run to run.  No driver or no loader is not an error: the count is
 * 0 with the reason.  MB_VK_VALIDATION=1 enables VK_LAYER_KHRONOS_validation with a
 * debug-utils messenger that turns any warning or error into the sticky error; "sync" adds
 * the layer's synchronisation validation (hazards between commands that a CPU driver's
 * in-order execution hides), "gpu" its GPU-assisted checks of shader accesses.
 * Opening also reads what the GEMM designs need (subgroup operations, cooperative-
 * matrix shapes), enables VK_NV_cooperative_matrix only where a shape is usable, and
 * picks the design (pick_gemm). */
#include "vk_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

/* "<what> (<call>: <VkResult name> = <code>)" */
static void say(char *why, size_t len, const char *what, const char *call, VkResult r)
{
  if (why && len) snprintf(why, len, "%s (%s: %s = %d)", what, call, vk_result_name(r), (int)r);
}

/* MB_VK_VALIDATION: 0 off, 1 core checks, 2 + synchronisation, 3 + GPU-assisted */
enum { VAL_OFF, VAL_CORE, VAL_SYNC, VAL_GPU };

static int want_validation(void)
{
  const char *e = getenv("MB_VK_VALIDATION");
  if (!e || !e[0] || strcmp(e, "0") == 0) return VAL_OFF;
  if (strcmp(e, "sync") == 0) return VAL_SYNC;
  if (strcmp(e, "gpu") == 0) return VAL_GPU;
  return VAL_CORE;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
                                                 VkDebugUtilsMessageTypeFlagsEXT types,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *d,
                                                 void *user)
{
  vk_be *be = user;
  /* GENERAL messages are the loader's notes (e.g. "env var VK_INSTANCE_LAYERS defined") */
  if (!be || sev < VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT ||
      !(types & (VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                 VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT)))
    return VK_FALSE;
  be->validation_msgs++;
  vk_fail(be, MB_DEVICE_ERROR, "vulkan validation: %s",
          d && d->pMessage ? d->pMessage : "(no message)");
  return VK_FALSE;
}

static int has_layer(const char *name)
{
  uint32_t n = 0;
  if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return 0;
  VkLayerProperties *lp = calloc(n, sizeof *lp);
  int found = 0;
  if (lp && vkEnumerateInstanceLayerProperties(&n, lp) == VK_SUCCESS)
    for (uint32_t i = 0; i < n; i++)
      if (strcmp(lp[i].layerName, name) == 0) found = 1;
  free(lp);
  return found;
}

/* be == NULL: a plain instance for counting devices. */
static VkResult make_instance(vk_be *be, VkInstance *out, char *why, size_t len)
{
  VkApplicationInfo app = {
    .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
    .pApplicationName = "mnemobench",
    .applicationVersion = 1,
    .pEngineName = "mnemobench",
    .engineVersion = 1,
    .apiVersion = VK_API_VERSION_1_2,
  };
  VkInstanceCreateInfo ci = {
    .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
    .pApplicationInfo = &app,
  };
  const char *layers[] = {VALIDATION_LAYER};
  const char *exts[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
  VkDebugUtilsMessengerCreateInfoEXT mci = {
    .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
    .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
    .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                   VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                   VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
    .pfnUserCallback = on_message,
    .pUserData = be,
  };
  VkValidationFeatureEnableEXT extra[2];
  VkValidationFeaturesEXT features = {
    .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
    .pEnabledValidationFeatures = extra,
  };
  int validate = be ? want_validation() : VAL_OFF;
  if (validate) {
    if (!has_layer(VALIDATION_LAYER)) {
      if (why && len)
        snprintf(why, len, "MB_VK_VALIDATION is set but %s is not installed", VALIDATION_LAYER);
      return VK_ERROR_LAYER_NOT_PRESENT;
    }
    ci.enabledLayerCount = 1;
    ci.ppEnabledLayerNames = layers;
    ci.enabledExtensionCount = 1;
    ci.ppEnabledExtensionNames = exts;
    ci.pNext = &mci;   /* also reports problems of instance creation itself */
    if (validate == VAL_SYNC)
      extra[features.enabledValidationFeatureCount++] =
        VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
    if (validate == VAL_GPU) {
      extra[features.enabledValidationFeatureCount++] = VK_VALIDATION_FEATURE_ENABLE_GPU_ASSISTED_EXT;
      extra[features.enabledValidationFeatureCount++] =
        VK_VALIDATION_FEATURE_ENABLE_GPU_ASSISTED_RESERVE_BINDING_SLOT_EXT;
    }
    if (features.enabledValidationFeatureCount) {
      features.pNext = &mci;
      ci.pNext = &features;
    }
  }
  VkResult r = vkCreateInstance(&ci, NULL, out);
  if (r != VK_SUCCESS) {
    say(why, len, r == VK_ERROR_INCOMPATIBLE_DRIVER ? "no Vulkan driver" : "no Vulkan instance",
        "vkCreateInstance", r);
    return r;
  }
  if (validate) {
    PFN_vkCreateDebugUtilsMessengerEXT create =
      (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(*out, "vkCreateDebugUtilsMessengerEXT");
    be->destroy_messenger =
      (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(*out, "vkDestroyDebugUtilsMessengerEXT");
    r = create ? create(*out, &mci, NULL, &be->messenger) : VK_ERROR_EXTENSION_NOT_PRESENT;
    if (r != VK_SUCCESS) {
      say(why, len, "no validation messenger", "vkCreateDebugUtilsMessengerEXT", r);
      vkDestroyInstance(*out, NULL);
      *out = VK_NULL_HANDLE;
      return r;
    }
  }
  return VK_SUCCESS;
}

/* Sort key of a physical device: GPUs before CPUs, then name, then UUID. */
typedef struct {
  VkPhysicalDevice pd;
  int rank;
  char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
  uint8_t uuid[VK_UUID_SIZE];
} dev_key;

static int type_rank(VkPhysicalDeviceType t)
{
  switch (t) {
  case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
  case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
  case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
  case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
  default: return 4;
  }
}

static int cmp_dev(const void *a, const void *b)
{
  const dev_key *x = a, *y = b;
  if (x->rank != y->rank) return x->rank - y->rank;
  int c = strcmp(x->name, y->name);
  return c ? c : memcmp(x->uuid, y->uuid, VK_UUID_SIZE);
}

/* Every physical device, in an order that does not depend on the loader's or an
 * implicit layer's (Mesa's device-select layer reorders them). */
static VkResult list_devices(VkInstance inst, VkPhysicalDevice **out, uint32_t *n)
{
  *out = NULL;
  *n = 0;
  VkResult r = vkEnumeratePhysicalDevices(inst, n, NULL);
  if (r != VK_SUCCESS || *n == 0) return r;
  *out = calloc(*n, sizeof **out);
  dev_key *keys = calloc(*n, sizeof *keys);
  if (!*out || !keys) {
    free(keys);
    return VK_ERROR_OUT_OF_HOST_MEMORY;
  }
  r = vkEnumeratePhysicalDevices(inst, n, *out);
  if (r == VK_INCOMPLETE) r = VK_SUCCESS;
  for (uint32_t i = 0; r == VK_SUCCESS && i < *n; i++) {
    VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &id};
    vkGetPhysicalDeviceProperties2((*out)[i], &p2);
    keys[i].pd = (*out)[i];
    keys[i].rank = type_rank(p2.properties.deviceType);
    memcpy(keys[i].name, p2.properties.deviceName, sizeof keys[i].name);
    memcpy(keys[i].uuid, id.deviceUUID, VK_UUID_SIZE);
  }
  qsort(keys, *n, sizeof *keys, cmp_dev);
  for (uint32_t i = 0; i < *n; i++) (*out)[i] = keys[i].pd;
  free(keys);
  return r;
}

int vk_device_count(char *why, size_t why_len)
{
  if (why && why_len) why[0] = '\0';
  VkInstance inst;
  if (make_instance(NULL, &inst, why, why_len) != VK_SUCCESS) return 0;
  VkPhysicalDevice *pd = NULL;
  uint32_t n = 0;
  VkResult r = list_devices(inst, &pd, &n);
  free(pd);
  vkDestroyInstance(inst, NULL);
  if (r != VK_SUCCESS) {
    say(why, why_len, "cannot list Vulkan devices", "vkEnumeratePhysicalDevices", r);
    return 0;
  }
  if (n == 0 && why && why_len) snprintf(why, why_len, "no Vulkan device (the driver lists none)");
  return (int)n;
}

static const char *vendor_name(uint32_t id)
{
  switch (id) {
  case 0x10DE: return "NVIDIA";
  case 0x1002: return "AMD";
  case 0x8086: return "Intel";
  case 0x13B5: return "ARM";
  case 0x5143: return "Qualcomm";
  case 0x106B: return "Apple";
  case 0x10005: return "Mesa";
  default: return NULL;
  }
}

/* A queue family with compute; one with timestamps first. */
static int pick_queue(vk_be *be)
{
  uint32_t n = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(be->phys, &n, NULL);
  VkQueueFamilyProperties *qf = calloc(n ? n : 1, sizeof *qf);
  if (!qf) return -1;
  vkGetPhysicalDeviceQueueFamilyProperties(be->phys, &n, qf);
  int best = -1;
  for (uint32_t i = 0; i < n; i++) {
    if (!(qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || qf[i].queueCount == 0) continue;
    if (best < 0 || (qf[best].timestampValidBits == 0 && qf[i].timestampValidBits > 0)) best = (int)i;
  }
  if (best >= 0) be->ts_valid_bits = qf[best].timestampValidBits;
  free(qf);
  return best;
}

static void fill_info(vk_be *be)
{
  mb_device_info *in = &be->base.info;
  const VkPhysicalDeviceProperties *p = &be->props;
  snprintf(in->name, sizeof in->name, "%.127s", p->deviceName);
  const char *v = vendor_name(p->vendorID);
  if (v) snprintf(in->vendor, sizeof in->vendor, "%s", v);
  else snprintf(in->vendor, sizeof in->vendor, "0x%04x", p->vendorID);

  VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
  VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &drv};
  vkGetPhysicalDeviceProperties2(be->phys, &p2);
  if (drv.driverName[0])
    snprintf(in->driver, sizeof in->driver, "%.40s %.48s", drv.driverName, drv.driverInfo);
  else
    snprintf(in->driver, sizeof in->driver, "driver version 0x%08x", p->driverVersion);
  snprintf(in->api, sizeof in->api, "Vulkan %u.%u.%u", VK_API_VERSION_MAJOR(p->apiVersion),
           VK_API_VERSION_MINOR(p->apiVersion), VK_API_VERSION_PATCH(p->apiVersion));
  const char *t = "other";
  switch (p->deviceType) {
  case VK_PHYSICAL_DEVICE_TYPE_CPU: t = "cpu"; break;
  case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
  case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
  case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: t = "gpu"; break;
  default: break;
  }
  snprintf(in->type, sizeof in->type, "%s", t);
  uint64_t mem = 0;
  for (uint32_t i = 0; i < be->memprops.memoryHeapCount; i++)
    if (be->memprops.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      mem += be->memprops.memoryHeaps[i].size;
  in->mem_bytes = mem;
  in->has_device_timer = be->ts_valid_bits > 0 && p->limits.timestampPeriod > 0.0f;
}

/* ---- what the GEMM designs need (gemm.c) ---- */

static void query_subgroup(vk_be *be)
{
  VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sg};
  vkGetPhysicalDeviceProperties2(be->phys, &p2);
  be->subgroup_size = sg.subgroupSize;
  VkSubgroupFeatureFlags need = VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_SHUFFLE_BIT;
  be->subgroup_shuffle = (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                         (sg.supportedOperations & need) == need && sg.subgroupSize > 0;
}

static int has_device_ext(VkPhysicalDevice pd, const char *name)
{
  uint32_t n = 0;
  if (vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0) return 0;
  VkExtensionProperties *e = calloc(n, sizeof *e);
  int found = 0;
  if (e && vkEnumerateDeviceExtensionProperties(pd, NULL, &n, e) == VK_SUCCESS)
    for (uint32_t i = 0; i < n; i++)
      if (strcmp(e[i].extensionName, name) == 0) found = 1;
  free(e);
  return found;
}

/* Shared memory of gemm_coopmat.comp: A and B slices (twice for split f16 inputs)
 * and the f32 block of C; 4 subgroups of 2×2 fragments each. */
static int coopmat_fits(const vk_be *be, uint32_t m, uint32_t n, uint32_t k, int f16)
{
  uint64_t bm = 4 * (uint64_t)m, bn = 4 * (uint64_t)n;
  uint64_t bytes = (bm * k + k * bn) * (f16 ? 2 * 2 : 4) + bm * bn * 4;
  return m && n && k && bytes <= be->props.limits.maxComputeSharedMemorySize &&
         4 * (uint64_t)be->subgroup_size <= be->props.limits.maxComputeWorkGroupInvocations;
}

/* VK_NV_cooperative_matrix shapes with subgroup scope and f32 accumulators, f32 or
 * f16 inputs (16×16×16 preferred); 1 if one is usable and its features are there. */
static int query_coopmat(vk_be *be)
{
  memset(&be->coopmat, 0, sizeof be->coopmat);
  if (!be->subgroup_size || !has_device_ext(be->phys, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME))
    return 0;
  VkPhysicalDeviceCooperativeMatrixFeaturesNV cmf = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
  VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                          .pNext = &cmf};
  VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f12};
  vkGetPhysicalDeviceFeatures2(be->phys, &f2);
  PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV list =
    (PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV)vkGetInstanceProcAddr(
      be->instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV");
  if (!cmf.cooperativeMatrix || !f12.vulkanMemoryModel || !list) return 0;
  uint32_t n = 0;
  if (list(be->phys, &n, NULL) != VK_SUCCESS || n == 0) return 0;
  VkCooperativeMatrixPropertiesNV *cp = calloc(n, sizeof *cp);
  if (!cp) return 0;
  for (uint32_t i = 0; i < n; i++) cp[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV;
  if (list(be->phys, &n, cp) != VK_SUCCESS) n = 0;
  vk_coopmat *c = &be->coopmat;
  for (uint32_t i = 0; i < n; i++) {
    const VkCooperativeMatrixPropertiesNV *q = &cp[i];
    if (q->scope != VK_SCOPE_SUBGROUP_NV || q->CType != VK_COMPONENT_TYPE_FLOAT32_NV ||
        q->DType != VK_COMPONENT_TYPE_FLOAT32_NV || q->AType != q->BType)
      continue;
    int f16 = q->AType == VK_COMPONENT_TYPE_FLOAT16_NV;
    if (!f16 && q->AType != VK_COMPONENT_TYPE_FLOAT32_NV) continue;
    if (f16 && !f12.shaderFloat16) continue;
    if (!coopmat_fits(be, q->MSize, q->NSize, q->KSize, f16)) continue;
    uint32_t *m = f16 ? &c->f16_m : &c->f32_m, *nn = f16 ? &c->f16_n : &c->f32_n,
             *k = f16 ? &c->f16_k : &c->f32_k;
    int square = q->MSize == 16 && q->NSize == 16 && q->KSize == 16;
    if (*m == 0 || square) {
      *m = q->MSize;
      *nn = q->NSize;
      *k = q->KSize;
    }
  }
  free(cp);
  return c->f32_m || c->f16_m;
}

const char *vk_gemm_design_name(vk_gemm_design d)
{
  switch (d) {
  case VK_GEMM_TILED: return "tiled";
  case VK_GEMM_TEXEL: return "texel";
  case VK_GEMM_SUBGROUP: return "subgroup";
  case VK_GEMM_COOPMAT: return "coopmat";
  }
  return "?";
}

/* The GEMM design: texel on CPU devices (lavapipe), else cooperative matrices with
 * f32 inputs, else subgroup shuffles, else tiled.  Split-f16 cooperative matrices
 * only when forced (f16's range: gemm_coopmat.comp).  MB_VK_GEMM forces a design;
 * one the device lacks leaves the reason in gemm_why (every GEMM then fails
 * MB_UNSUPPORTED: a forced test must skip, not pass on another design). */
static void pick_gemm(vk_be *be)
{
  const char *dev = be->props.deviceName;
  if (be->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU) be->gemm = VK_GEMM_TEXEL;
  else if (be->coopmat.f32_m) be->gemm = VK_GEMM_COOPMAT;
  else if (be->subgroup_shuffle) be->gemm = VK_GEMM_SUBGROUP;
  else be->gemm = VK_GEMM_TILED;
  be->gemm_why[0] = '\0';
  const char *g = getenv("MB_VK_GEMM");
  if (!g) return;
  if (strcmp(g, "tiled") == 0) be->gemm = VK_GEMM_TILED;
  else if (strcmp(g, "texel") == 0) be->gemm = VK_GEMM_TEXEL;
  else if (strcmp(g, "subgroup") == 0) {
    be->gemm = VK_GEMM_SUBGROUP;
    if (!be->subgroup_shuffle)
      snprintf(be->gemm_why, sizeof be->gemm_why,
               "MB_VK_GEMM=subgroup: %.96s has no subgroupShuffle in compute shaders", dev);
  } else if (strcmp(g, "coopmat") == 0) {
    be->gemm = VK_GEMM_COOPMAT;
    if (!be->coopmat.enabled)
      snprintf(be->gemm_why, sizeof be->gemm_why,
               "MB_VK_GEMM=coopmat: %.64s lists no VK_NV_cooperative_matrix shape "
               "(subgroup scope, f16 or f32 A and B, f32 C)", dev);
  }
}

mb_status vk_device_open(vk_be *be, int device, char *why, size_t why_len)
{
  const char *drop = getenv("MB_VK_DROP_BARRIERS");   /* proves MB_VK_VALIDATION=sync bites */
  be->drop_barriers = drop && drop[0] && strcmp(drop, "0") != 0;
  VkResult r = make_instance(be, &be->instance, why, why_len);
  if (r != VK_SUCCESS) return r == VK_ERROR_LAYER_NOT_PRESENT ? MB_DEVICE_ERROR : MB_NO_DEVICE;

  VkPhysicalDevice *pd = NULL;
  uint32_t n = 0;
  r = list_devices(be->instance, &pd, &n);
  if (r != VK_SUCCESS || device < 0 || (uint32_t)device >= n) {
    if (r != VK_SUCCESS) say(why, why_len, "cannot list Vulkan devices", "vkEnumeratePhysicalDevices", r);
    else if (why && why_len)
      snprintf(why, why_len, "no Vulkan device %d (%u listed)", device, n);
    free(pd);
    return MB_NO_DEVICE;
  }
  be->phys = pd[device];
  free(pd);
  be->base.device_index = device;
  vkGetPhysicalDeviceProperties(be->phys, &be->props);
  vkGetPhysicalDeviceMemoryProperties(be->phys, &be->memprops);
  if (be->props.apiVersion < VK_API_VERSION_1_2) {
    if (why && why_len)
      snprintf(why, why_len, "%s supports Vulkan %u.%u; the shaders need 1.2", be->props.deviceName,
               VK_API_VERSION_MAJOR(be->props.apiVersion), VK_API_VERSION_MINOR(be->props.apiVersion));
    return MB_NO_DEVICE;
  }
  int q = pick_queue(be);
  if (q < 0) {
    if (why && why_len) snprintf(why, why_len, "%s has no compute queue", be->props.deviceName);
    return MB_NO_DEVICE;
  }
  be->qfamily = (uint32_t)q;
  be->ts_period_ns = be->props.limits.timestampPeriod;
  if (be->ts_period_ns <= 0.0) be->ts_valid_bits = 0;

  float prio = 1.0f;
  VkDeviceQueueCreateInfo qci = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
    .queueFamilyIndex = be->qfamily,
    .queueCount = 1,
    .pQueuePriorities = &prio,
  };
  VkDeviceCreateInfo dci = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
    .queueCreateInfoCount = 1,
    .pQueueCreateInfos = &qci,
  };
  query_subgroup(be);
  /* cooperative matrices: the extension and the features its shaders need, only
   * where the device lists a shape the GEMM can use */
  VkPhysicalDeviceCooperativeMatrixFeaturesNV cmf = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV,
    .cooperativeMatrix = VK_TRUE,
  };
  VkPhysicalDeviceVulkan12Features f12 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
    .pNext = &cmf,
    .vulkanMemoryModel = VK_TRUE,
  };
  const char *cm_ext[] = {VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME};
  if (query_coopmat(be)) {
    f12.shaderFloat16 = be->coopmat.f16_m ? VK_TRUE : VK_FALSE;
    dci.pNext = &f12;
    dci.enabledExtensionCount = 1;
    dci.ppEnabledExtensionNames = cm_ext;
    be->coopmat.enabled = 1;
  }
  r = vkCreateDevice(be->phys, &dci, NULL, &be->dev);
  if (r != VK_SUCCESS) {
    be->dev = VK_NULL_HANDLE;
    say(why, why_len, "cannot create the Vulkan device", "vkCreateDevice", r);
    return MB_DEVICE_ERROR;
  }
  vkGetDeviceQueue(be->dev, be->qfamily, 0, &be->queue);

  /* texel views must start on a texel (16 bytes) and on the device's alignment */
  VkDeviceSize al = be->props.limits.minTexelBufferOffsetAlignment;
  be->texel_align = al > 16 ? al : 16;
  pick_gemm(be);
  fill_info(be);
  return MB_OK;
}

void vk_device_close(vk_be *be)
{
  if (be->dev) vkDestroyDevice(be->dev, NULL);
  if (be->messenger && be->destroy_messenger)
    be->destroy_messenger(be->instance, be->messenger, NULL);
  if (be->instance) vkDestroyInstance(be->instance, NULL);
  be->dev = VK_NULL_HANDLE;
  be->messenger = VK_NULL_HANDLE;
  be->instance = VK_NULL_HANDLE;
}
