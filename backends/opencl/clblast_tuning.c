/* CLBlast tuning files (see clblast_tuning.h). */
#include "clblast_tuning.h"

#include <clblast_c.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "mnemobench-clblast-tuning 1"

static void sanitize(const char *s, char *out, size_t len)
{
  size_t o = 0;
  for (; *s && o + 1 < len; s++) {
    char c = *s;
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '-';
    out[o++] = ok ? c : '_';
  }
  out[o] = 0;
}

int mb_clt_default_path(const mb_device_info *info, char *path, size_t len)
{
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  char base[512], dev[96], drv[48];
  if (xdg && *xdg) snprintf(base, sizeof base, "%s/mnemobench/clblast", xdg);
  else if (home && *home) snprintf(base, sizeof base, "%s/.cache/mnemobench/clblast", home);
  else return 0;
  sanitize(info->name, dev, sizeof dev);
  sanitize(info->driver, drv, sizeof drv);
  return snprintf(path, len, "%s/%s-%s.tune", base, dev, drv) < (int)len;
}

void mb_clt_set(mb_clt_kernel *k, const char *name, size_t value)
{
  for (int i = 0; i < k->nparams; i++)
    if (strcmp(k->names[i], name) == 0) {
      k->values[i] = value;
      return;
    }
  if (k->nparams == MB_CLT_MAX_PARAMS) return;
  snprintf(k->names[k->nparams], sizeof k->names[0], "%s", name);
  k->values[k->nparams++] = value;
}

static void chomp(char *s)
{
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ')) s[--n] = 0;
}

/* "kernel NAME A=1 B=2 ..." (the text after "kernel ") */
static int parse_kernel(char *s, mb_clt_file *t, char *err, size_t len)
{
  if (t->nkernels == MB_CLT_MAX_KERNELS) return snprintf(err, len, "more than %d kernels",
                                                        MB_CLT_MAX_KERNELS), -1;
  mb_clt_kernel *k = &t->kernels[t->nkernels];
  memset(k, 0, sizeof *k);
  char *save = NULL, *tok = strtok_r(s, " ", &save);
  if (!tok || strlen(tok) >= sizeof k->kernel) return snprintf(err, len, "bad kernel name"), -1;
  snprintf(k->kernel, sizeof k->kernel, "%s", tok);
  while ((tok = strtok_r(NULL, " ", &save))) {
    char *eq = strchr(tok, '=');
    if (!eq || eq == tok || (size_t)(eq - tok) >= sizeof k->names[0])
      return snprintf(err, len, "bad parameter '%.40s'", tok), -1;
    *eq = 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(eq + 1, &end, 10);
    if (errno || end == eq + 1 || *end || eq[1] == '-' || v > 1u << 30)
      return snprintf(err, len, "bad value for %s", tok), -1;
    if (k->nparams == MB_CLT_MAX_PARAMS) return snprintf(err, len, "too many parameters"), -1;
    mb_clt_set(k, tok, (size_t)v);
  }
  if (k->nparams == 0) return snprintf(err, len, "kernel %s has no parameters", k->kernel), -1;
  t->nkernels++;
  return 0;
}

int mb_clt_read(const char *path, mb_clt_file *t, char *why, size_t why_len)
{
  memset(t, 0, sizeof *t);
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(why, why_len, "CLBlast tuning file %s: %s", path, strerror(errno));
    return -1;
  }
  char line[1024], err[128] = "";
  int lineno = 0, rc = 0, magic = 0;
  while (!rc && fgets(line, sizeof line, f)) {
    lineno++;
    if (!strchr(line, '\n') && !feof(f)) {
      snprintf(err, sizeof err, "line too long");
      rc = -1;
      break;
    }
    chomp(line);
    if (!line[0] || line[0] == '#') continue;
    if (!magic) {
      if (strcmp(line, MAGIC) != 0) snprintf(err, sizeof err, "not a tuning file (no '" MAGIC "')");
      magic = 1;
      rc = err[0] ? -1 : 0;
    } else if (strncmp(line, "device ", 7) == 0) {
      snprintf(t->device, sizeof t->device, "%.127s", line + 7);
    } else if (strncmp(line, "driver ", 7) == 0) {
      snprintf(t->driver, sizeof t->driver, "%.95s", line + 7);
    } else if (strncmp(line, "kernel ", 7) == 0) {
      rc = parse_kernel(line + 7, t, err, sizeof err);
    } else if (strncmp(line, "measured ", 9) != 0) {
      snprintf(err, sizeof err, "unknown line '%.40s'", line);
      rc = -1;
    }
  }
  if (!rc && ferror(f)) snprintf(err, sizeof err, "read error"), rc = -1;
  fclose(f);
  if (!rc && !magic) snprintf(err, sizeof err, "empty file"), rc = -1;
  if (!rc && (!t->device[0] || t->nkernels == 0))
    snprintf(err, sizeof err, "no device or no kernel line"), rc = -1;
  if (rc) snprintf(why, why_len, "CLBlast tuning file %s, line %d: %s", path, lineno, err);
  return rc;
}

static int mkdirs(char *dir)
{
  for (char *p = dir + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    int r = mkdir(dir, 0755);
    *p = '/';
    if (r && errno != EEXIST) return -1;
  }
  return mkdir(dir, 0755) && errno != EEXIST ? -1 : 0;
}

int mb_clt_write(const char *path, const mb_clt_file *t, const char *const *measured, int nmeasured,
                 char *why, size_t why_len)
{
  char dir[1024], tmp[1100];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = 0;
    if (mkdirs(dir)) {
      snprintf(why, why_len, "cannot create %s: %s", dir, strerror(errno));
      return -1;
    }
  }
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) {
    snprintf(why, why_len, "cannot write %s: %s", tmp, strerror(errno));
    return -1;
  }
  fprintf(f, MAGIC "\ndevice %s\ndriver %s\n", t->device, t->driver);
  for (int i = 0; i < t->nkernels; i++) {
    fprintf(f, "kernel %s", t->kernels[i].kernel);
    for (int p = 0; p < t->kernels[i].nparams; p++)
      fprintf(f, " %s=%zu", t->kernels[i].names[p], t->kernels[i].values[p]);
    fputc('\n', f);
  }
  for (int i = 0; i < nmeasured; i++) fprintf(f, "measured %s\n", measured[i]);
  int bad = ferror(f);
  if (fclose(f) || bad || rename(tmp, path)) {
    snprintf(why, why_len, "cannot write %s: %s", path, strerror(errno));
    remove(tmp);
    return -1;
  }
  return 0;
}

int mb_clt_apply(cl_device_id device, const mb_clt_file *t, char *why, size_t why_len)
{
  for (int i = 0; i < t->nkernels; i++) {
    const mb_clt_kernel *k = &t->kernels[i];
    const char *names[MB_CLT_MAX_PARAMS];
    for (int p = 0; p < k->nparams; p++) names[p] = k->names[p];
    CLBlastStatusCode s = CLBlastOverrideParameters(device, k->kernel, CLBlastPrecisionSingle,
                                                    (size_t)k->nparams, names, k->values);
    if (s != CLBlastSuccess) {
      snprintf(why, why_len, "CLBlast rejected the tuned parameters of %s (%d%s)", k->kernel,
               (int)s, s == CLBlastMissingOverrideParameter ? ": a parameter is missing"
               : s == CLBlastInvalidOverrideKernel ? ": unknown kernel" : "");
      return -1;
    }
  }
  return 0;
}

int mb_clt_open(cl_device_id device, mb_device_info *info, char *why, size_t why_len)
{
  const char *env = getenv("MB_CLBLAST_TUNING");
  char path[1024];
  snprintf(info->tuning, sizeof info->tuning, "clblast default");
  if (env && strcmp(env, "none") == 0) return 0;
  if (env && *env) {
    snprintf(path, sizeof path, "%s", env);
  } else if (!mb_clt_default_path(info, path, sizeof path) || access(path, F_OK) != 0) {
    return 0;   /* nothing tuned for this device */
  }
  mb_clt_file t;
  if (mb_clt_read(path, &t, why, why_len)) return -1;
  if (strcmp(t.device, info->name) != 0 || (t.driver[0] && strcmp(t.driver, info->driver) != 0)) {
    snprintf(why, why_len, "CLBlast tuning file %s was made for '%.60s' (driver %.30s), not this "
             "device (driver %.30s); run mnemobench-clblast-tune again or set MB_CLBLAST_TUNING=none",
             path, t.device, t.driver, info->driver);
    return -1;
  }
  if (mb_clt_apply(device, &t, why, why_len)) return -1;
  const char *base = strrchr(path, '/');
  snprintf(info->tuning, sizeof info->tuning, "clblast tuned: %.70s", base ? base + 1 : path);
  return 0;
}
