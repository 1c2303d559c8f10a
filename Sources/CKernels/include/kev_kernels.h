// Elementwise kernels of the Llama forward pass that BLAS does not cover, in C so that each
// is compiled three times (AVX-512, AVX2+FMA, baseline x86-64) and the loader picks the one
// this CPU runs (feature tests at the first call); Swift's SIMD types compile for the
// baseline only.
// Shapes follow the Swift callers: column-major activations, one column per token.
#ifndef KEV_KERNELS_H
#define KEV_KERNELS_H

/// y[i] = exp(x[i]) by Cody-Waite reduction and a degree-6 polynomial
/// (relative error about 2 ulp on [-87, 88]; below -87.3 gives 0, above 88 clamps).
void kev_exp(float *y, const float *x, long n);

/// In place: col[0..<visible] becomes its softmax (max subtracted), col[visible..<length] = 0.
void kev_softmax_prefix(float *col, long visible, long length);

/// up[i] *= gate[i] / (1 + exp(-gate[i]))   (SwiGLU, n elements).
void kev_swiglu(float *up, const float *gate, long n);

/// SwiGLU's backward pass, n elements: s = sigmoid(gate), dgate = dkeys up s (1 + gate (1 - s)),
/// dup = dkeys gate s (kev_exp's exponential).
void kev_swiglu_backward(float *dgate, float *dup, const float *dkeys, const float *gate, const float *up, long n);

/// out[:, j] = x[:, j] / sqrt(mean(x[:, j]^2) + eps) * w   (x, out: d x t; squares summed in fp64).
void kev_rmsnorm(float *out, const float *x, const float *w, long d, long t, float eps);

/// Interleaved RoPE in place on x (rows x t, heads of headDim): for position column j and pair
/// i < half, (x[2i], x[2i+1]) rotates by the angle whose cosine and sine are
/// cosines[i + j * half], sines[i + j * half].
void kev_rope(float *x, long rows, long t, long heads, long headDim, long half, const float *cosines,
              const float *sines);

/// out[:, j] = (x[:, j] - mean) / sqrt(var + eps) * g + b   (LayerNorm; x, out: d x t; the
/// mean, the variance and x - mean of each column in fp64, two passes).
void kev_layernorm(float *out, const float *x, const float *g, const float *b, long d, long t, float eps);

/// In place, n elements: x = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (GPT-2's
/// `gelu_new`), tanh(u) = 1 - 2 / (1 + exp(2u)) with kev_exp's exponential (a few ulp).
void kev_gelu_tanh(float *x, long n);

/// dst[i] = the bfloat16 src[i] widened to float (exact: the 16 bits become the top half),
/// n elements; src may be unaligned. *nonfinite gets how many are Inf or NaN.
void kev_widen_bf16(float *dst, const void *src, long n, long *nonfinite);

/// The same rotation in the NEOX (half-split) layout: the pair (x[i], x[i + half]) of each head.
void kev_rope_neox(float *x, long rows, long t, long heads, long headDim, long half, const float *cosines,
                   const float *sines);

/// Whether this CPU has the SHA extensions that kev_sha256_blocks uses (1) or not (0).
int kev_sha256_hardware(void);

/// SHA-256's compression of `blocks` whole 64-byte blocks of `data` into `state` (h0..h7, FIPS
/// 180-4), with the SHA extensions; only when kev_sha256_hardware() says so.
void kev_sha256_blocks(unsigned int *state, const void *data, long blocks);

/// Which build this CPU runs: "x86-64-v4 (AVX-512)", "x86-64-v3 (AVX2, FMA)" or "baseline".
const char *kev_kernels_isa(void);

/// The highest build this CPU can run: 4 (AVX-512), 3 (AVX2 + FMA) or 1 (baseline).
int kev_kernels_supported_level(void);

/// Makes every later call on the calling thread use the build of `level` (4, 3 or 1), lowered
/// to what the CPU supports; returns the level in force. For tests that check each build
/// against references: other threads keep the CPU's build (their results stay reproducible).
/// `level` 0 removes the thread's override.
int kev_kernels_force_level(int level);

#endif
