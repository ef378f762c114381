/* Shader modules, descriptor-set and pipeline layouts, and compute pipelines.
 *
 * The SPIR-V is embedded at build time (meson runs glslangValidator on each variant of
 * shaders/variants.def, then tools/embed.py).  Modules
 * and layouts are made on first use of a shader; a pipeline is made once per
 * (shader, specialization constants) and cached for the life of the backend.
 * Specialization constant i is entry i of the spec array (ids 0 and 1 are the
 * work-group size, the rest op codes, transposes, tile sizes).  Sizes and offsets
 * travel as push constants (one 128-byte range, the guaranteed minimum). */
#include "vk_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spv_shaders.h"

#define PUSH_BYTES 128

typedef struct {
  const char *name;
  const uint32_t *code;
  const size_t *bytes;    /* embed.py's length: not a constant expression */
  const char *bindings;   /* per binding: 'b' storage buffer, 't' storage texel buffer */
} shader_desc;

static const shader_desc k_shaders[VKS__COUNT] = {
#define MB_VK_SHADER(id, name, source, bindings, defines) \
  [VKS_##id] = {#name, mb_spv_##name, &mb_spv_##name##_len, bindings},
#include "variants.def"
};

int vk_shader_binding_count(vk_shader_id s) { return (int)strlen(k_shaders[s].bindings); }

int vk_shader_is_texel(vk_shader_id s, int binding) { return k_shaders[s].bindings[binding] == 't'; }

/* Module and layouts of shader s, made on first use. */
static vk_shader_state *shader(vk_be *be, vk_shader_id s)
{
  vk_shader_state *st = &be->shaders[s];
  if (st->layout) return st;
  const shader_desc *d = &k_shaders[s];
  char what[96];
  VkShaderModuleCreateInfo mi = {
    .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
    .codeSize = *d->bytes,
    .pCode = d->code,
  };
  snprintf(what, sizeof what, "vkCreateShaderModule(%s)", d->name);
  if (!st->module && !vk_check(be, vkCreateShaderModule(be->dev, &mi, NULL, &st->module), what))
    return NULL;

  VkDescriptorSetLayoutBinding lb[MBVK_MAX_BINDINGS];
  int nb = vk_shader_binding_count(s);
  for (int i = 0; i < nb; i++)
    lb[i] = (VkDescriptorSetLayoutBinding){
      .binding = (uint32_t)i,
      .descriptorType = d->bindings[i] == 't' ? VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER
                                              : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    };
  VkDescriptorSetLayoutCreateInfo li = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
    .bindingCount = (uint32_t)nb,
    .pBindings = lb,
  };
  snprintf(what, sizeof what, "vkCreateDescriptorSetLayout(%s)", d->name);
  if (!st->dsl && !vk_check(be, vkCreateDescriptorSetLayout(be->dev, &li, NULL, &st->dsl), what))
    return NULL;
  VkPushConstantRange pr = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .offset = 0, .size = PUSH_BYTES};
  VkPipelineLayoutCreateInfo pli = {
    .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
    .setLayoutCount = 1,
    .pSetLayouts = &st->dsl,
    .pushConstantRangeCount = 1,
    .pPushConstantRanges = &pr,
  };
  snprintf(what, sizeof what, "vkCreatePipelineLayout(%s)", d->name);
  if (!vk_check(be, vkCreatePipelineLayout(be->dev, &pli, NULL, &st->layout), what)) {
    st->layout = VK_NULL_HANDLE;
    return NULL;
  }
  return st;
}

VkPipelineLayout vk_pipeline_layout(vk_be *be, vk_shader_id s)
{
  vk_shader_state *st = shader(be, s);
  return st ? st->layout : VK_NULL_HANDLE;
}

VkDescriptorSetLayout vk_set_layout(vk_be *be, vk_shader_id s)
{
  vk_shader_state *st = shader(be, s);
  return st ? st->dsl : VK_NULL_HANDLE;
}

VkPipeline vk_pipeline(vk_be *be, vk_shader_id s, const uint32_t *spec, int nspec)
{
  if (nspec > MBVK_MAX_SPEC) nspec = MBVK_MAX_SPEC;
  for (vk_pipe *p = be->pipes; p; p = p->next)
    if (p->shader == s && p->nspec == nspec && memcmp(p->spec, spec, (size_t)nspec * 4) == 0)
      return p->pipeline;
  vk_shader_state *st = shader(be, s);
  if (!st) return VK_NULL_HANDLE;
  vk_pipe *p = calloc(1, sizeof *p);
  if (!p) {
    vk_fail(be, MB_OOM, "pipeline: out of host memory");
    return VK_NULL_HANDLE;
  }
  p->shader = s;
  p->nspec = nspec;
  memcpy(p->spec, spec, (size_t)nspec * 4);
  VkSpecializationMapEntry me[MBVK_MAX_SPEC];
  for (int i = 0; i < nspec; i++)
    me[i] = (VkSpecializationMapEntry){.constantID = (uint32_t)i, .offset = (uint32_t)i * 4, .size = 4};
  VkSpecializationInfo si = {
    .mapEntryCount = (uint32_t)nspec,
    .pMapEntries = me,
    .dataSize = (size_t)nspec * 4,
    .pData = p->spec,
  };
  VkComputePipelineCreateInfo ci = {
    .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
    .flags = VK_PIPELINE_CREATE_DISPATCH_BASE_BIT,   /* grids split with vkCmdDispatchBase */
    .stage = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
      .stage = VK_SHADER_STAGE_COMPUTE_BIT,
      .module = st->module,
      .pName = "main",
      .pSpecializationInfo = &si,
    },
    .layout = st->layout,
  };
  char what[96];
  snprintf(what, sizeof what, "vkCreateComputePipelines(%s)", k_shaders[s].name);
  if (!vk_check(be, vkCreateComputePipelines(be->dev, VK_NULL_HANDLE, 1, &ci, NULL, &p->pipeline), what)) {
    free(p);
    return VK_NULL_HANDLE;
  }
  p->next = be->pipes;
  be->pipes = p;
  return p->pipeline;
}

void vk_pipelines_destroy(vk_be *be)
{
  while (be->pipes) {
    vk_pipe *p = be->pipes;
    be->pipes = p->next;
    vkDestroyPipeline(be->dev, p->pipeline, NULL);
    free(p);
  }
  for (int s = 0; s < VKS__COUNT; s++) {
    vk_shader_state *st = &be->shaders[s];
    if (st->layout) vkDestroyPipelineLayout(be->dev, st->layout, NULL);
    if (st->dsl) vkDestroyDescriptorSetLayout(be->dev, st->dsl, NULL);
    if (st->module) vkDestroyShaderModule(be->dev, st->module, NULL);
    memset(st, 0, sizeof *st);
  }
}
