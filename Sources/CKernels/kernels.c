#include "kev_kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

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

// Reductions keep KEV_LANES independent partial results (one per vector lane), so that they
// vectorise without reassociating floating-point sums (no -ffast-math).
#define KEV_LANES 16

#define KEV_CAT2(a, b) a##b
#define KEV_CAT(a, b) KEV_CAT2(a, b)
#define KEV_NAME(n) KEV_CAT(n, KEV_SUFFIX)

// Each body is compiled once per instruction-set level and the dispatchers below pick one per
// call from kev_level(). The levels are tested feature by feature (AVX-512 F/BW/DQ/VL, AVX2,
// FMA, ...), which every libgcc since GCC 5 reports, and only with the OS's support for the
// wider registers (the runtime checks XCR0), instead of relying on the x86-64-v3/v4 level bits.
#if defined(__x86_64__) && defined(__ELF__)
#define KEV_MULTI 1
#define KEV_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi,bmi2,f16c,lzcnt,movbe,popcnt")))
#define KEV_SUFFIX _v4
#include "internal/kernel_bodies.h"
#undef KEV_TARGET
#undef KEV_SUFFIX
#define KEV_TARGET __attribute__((target("avx2,fma,bmi,bmi2,f16c,lzcnt,movbe,popcnt")))
#define KEV_SUFFIX _v3
#include "internal/kernel_bodies.h"
#undef KEV_TARGET
#undef KEV_SUFFIX
#endif
#define KEV_TARGET
#define KEV_SUFFIX _base
#include "internal/kernel_bodies.h"

static int kev_supported_level(void) {
#ifdef KEV_MULTI
  __builtin_cpu_init();
  int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
           __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt");
  int v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return v4 ? 4 : (v3 ? 3 : 1);
#else
  return 1;
#endif
}

// 0: not yet known. Written once; a race writes the same value.
static volatile int kev_chosen_level = 0;
// A build forced by kev_kernels_force_level for the calling thread only (0: none), so that a
// test of one build never changes the rounding of passes that run meanwhile on other threads.
static _Thread_local int kev_thread_level = 0;

static inline int kev_level(void) {
  if (kev_thread_level != 0) return kev_thread_level;
  int l = kev_chosen_level;
  if (l == 0) {
    l = kev_supported_level();
    kev_chosen_level = l;
  }
  return l;
}

int kev_kernels_supported_level(void) { return kev_supported_level(); }

int kev_kernels_force_level(int level) {
  if (level <= 0) {
    kev_thread_level = 0;
    return kev_level();
  }
  int top = kev_supported_level();
  int l = level >= 4 ? 4 : (level >= 3 ? 3 : 1);
  if (l > top) l = top;
  kev_thread_level = l;
  return l;
}

#ifdef KEV_MULTI
#define KEV_DISPATCH(n, args) \
  switch (kev_level()) { \
  case 4: n##_v4 args; return; \
  case 3: n##_v3 args; return; \
  default: n##_base args; return; \
  }
#else
#define KEV_DISPATCH(n, args) n##_base args;
#endif

void kev_exp(float *restrict y, const float *restrict x, long n) { KEV_DISPATCH(kev_exp, (y, x, n)) }

void kev_softmax_prefix(float *restrict col, long visible, long length) {
  KEV_DISPATCH(kev_softmax_prefix, (col, visible, length))
}

void kev_swiglu(float *restrict up, const float *restrict gate, long n) { KEV_DISPATCH(kev_swiglu, (up, gate, n)) }

void kev_rmsnorm(float *restrict out, const float *restrict x, const float *restrict w, long d, long t, float eps) {
  KEV_DISPATCH(kev_rmsnorm, (out, x, w, d, t, eps))
}

void kev_rope(float *restrict x, long rows, long t, long heads, long headDim, long half,
              const float *restrict cosines, const float *restrict sines) {
  KEV_DISPATCH(kev_rope, (x, rows, t, heads, headDim, half, cosines, sines))
}

void kev_layernorm(float *restrict out, const float *restrict x, const float *restrict g, const float *restrict b,
                   long d, long t, float eps) {
  KEV_DISPATCH(kev_layernorm, (out, x, g, b, d, t, eps))
}

void kev_gelu_tanh(float *restrict x, long n) { KEV_DISPATCH(kev_gelu_tanh, (x, n)) }

void kev_widen_bf16(float *restrict dst, const void *restrict src, long n, long *restrict nonfinite) {
  KEV_DISPATCH(kev_widen_bf16, (dst, src, n, nonfinite))
}

void kev_swiglu_backward(float *restrict dgate, float *restrict dup, const float *restrict dkeys,
                         const float *restrict gate, const float *restrict up, long n) {
  KEV_DISPATCH(kev_swiglu_backward, (dgate, dup, dkeys, gate, up, n))
}

void kev_rope_neox(float *restrict x, long rows, long t, long heads, long headDim, long half,
                   const float *restrict cosines, const float *restrict sines) {
  KEV_DISPATCH(kev_rope_neox, (x, rows, t, heads, headDim, half, cosines, sines))
}

const char *kev_kernels_isa(void) {
  switch (kev_level()) {
  case 4: return "x86-64-v4 (AVX-512)";
  case 3: return "x86-64-v3 (AVX2, FMA)";
  default: return "baseline";
  }
}
