#include "kev_kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__ELF__)
#define KEV_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define KEV_CLONES
#endif

// exp(x) = 2^k exp(r), k = round(x / ln 2) by the 1.5 * 2^23 trick, r = x - k ln 2 with ln 2
// split in two (Cody-Waite), Taylor polynomial of degree 6. Written branch-free so that the
// loops around it vectorise.
static inline float kev_expf(float x) {
  const float magic = 12582912.0f;
  float c = x < -87.3f ? -87.3f : (x > 88.0f ? 88.0f : x);
  float t = c * 1.44269504f + magic;
  float kf = t - magic;
  float r = c - kf * 0.693145751953125f - kf * 1.428606765330187e-6f;
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  int32_t tb;
  memcpy(&tb, &t, 4);
  int32_t sb = ((tb - 0x4B400000) + 127) << 23;
  float s;
  memcpy(&s, &sb, 4);
  return x < -87.3f ? 0.0f : p * s;
}

KEV_CLONES void kev_exp(float *restrict y, const float *restrict x, long n) {
  for (long i = 0; i < n; i++) y[i] = kev_expf(x[i]);
}

// Reductions keep KEV_LANES independent partial results (one per vector lane), so that they
// vectorise without reassociating floating-point sums (no -ffast-math).
#define KEV_LANES 16

KEV_CLONES void kev_softmax_prefix(float *restrict col, long visible, long length) {
  float mx[KEV_LANES];
  for (int k = 0; k < KEV_LANES; k++) mx[k] = -INFINITY;
  long i = 0;
  for (; i + KEV_LANES <= visible; i += KEV_LANES)
    for (int k = 0; k < KEV_LANES; k++) mx[k] = col[i + k] > mx[k] ? col[i + k] : mx[k];
  float m = -INFINITY;
  for (int k = 0; k < KEV_LANES; k++) m = mx[k] > m ? mx[k] : m;
  for (; i < visible; i++) m = col[i] > m ? col[i] : m;
  float acc[KEV_LANES] = {0};
  i = 0;
  for (; i + KEV_LANES <= visible; i += KEV_LANES)
    for (int k = 0; k < KEV_LANES; k++) {
      float e = kev_expf(col[i + k] - m);
      col[i + k] = e;
      acc[k] += e;
    }
  float sum = 0;
  for (int k = 0; k < KEV_LANES; k++) sum += acc[k];
  for (; i < visible; i++) {
    float e = kev_expf(col[i] - m);
    col[i] = e;
    sum += e;
  }
  float inv = 1.0f / sum;
  for (i = 0; i < visible; i++) col[i] *= inv;
  for (i = visible; i < length; i++) col[i] = 0;
}

KEV_CLONES void kev_swiglu(float *restrict up, const float *restrict gate, long n) {
  for (long i = 0; i < n; i++) {
    float g = gate[i];
    up[i] *= g / (1.0f + kev_expf(-g));
  }
}

KEV_CLONES void kev_rmsnorm(float *restrict out, const float *restrict x, const float *restrict w, long d,
                            long t, float eps) {
  for (long j = 0; j < t; j++) {
    const float *col = x + j * d;
    double acc[KEV_LANES] = {0};
    long i = 0;
    for (; i + KEV_LANES <= d; i += KEV_LANES)
      for (int k = 0; k < KEV_LANES; k++) acc[k] += (double)col[i + k] * (double)col[i + k];
    double ss = 0;
    for (int k = 0; k < KEV_LANES; k++) ss += acc[k];
    for (; i < d; i++) ss += (double)col[i] * (double)col[i];
    float inv = (float)(1.0 / sqrt(ss / (double)d + (double)eps));
    float *o = out + j * d;
    for (i = 0; i < d; i++) o[i] = col[i] * inv * w[i];
  }
}

KEV_CLONES void kev_rope(float *restrict x, long rows, long t, long heads, long headDim, long half,
                         const float *restrict cosines, const float *restrict sines) {
  for (long j = 0; j < t; j++) {
    const float *cs = cosines + j * half;
    const float *sn = sines + j * half;
    for (long h = 0; h < heads; h++) {
      float *hp = x + j * rows + h * headDim;
      for (long i = 0; i < half; i++) {
        float a = hp[2 * i], b = hp[2 * i + 1];
        hp[2 * i] = a * cs[i] - b * sn[i];
        hp[2 * i + 1] = a * sn[i] + b * cs[i];
      }
    }
  }
}

const char *kev_kernels_isa(void) {
#if defined(__x86_64__) && defined(__ELF__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v4")) return "x86-64-v4 (AVX-512)";
  if (__builtin_cpu_supports("x86-64-v3")) return "x86-64-v3 (AVX2, FMA)";
#endif
  return "baseline";
}
