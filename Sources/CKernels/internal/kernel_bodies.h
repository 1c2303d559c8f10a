// The kernel bodies, included three times by kernels.c with KEV_TARGET (the instruction set
// the compiler may use) and KEV_SUFFIX (the name suffix) set; kernels.c dispatches on the CPU.
// No include guard on purpose.

KEV_TARGET static void KEV_NAME(kev_exp)(float *restrict y, const float *restrict x, long n) {
  for (long i = 0; i < n; i++) y[i] = kev_expf(x[i]);
}

KEV_TARGET static void KEV_NAME(kev_softmax_prefix)(float *restrict col, long visible, long length) {
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

KEV_TARGET static void KEV_NAME(kev_swiglu)(float *restrict up, const float *restrict gate, long n) {
  for (long i = 0; i < n; i++) {
    float g = gate[i];
    up[i] *= g / (1.0f + kev_expf(-g));
  }
}

KEV_TARGET static void KEV_NAME(kev_rmsnorm)(float *restrict out, const float *restrict x, const float *restrict w, long d,
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

KEV_TARGET static void KEV_NAME(kev_rope)(float *restrict x, long rows, long t, long heads, long headDim, long half,
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

KEV_TARGET static void KEV_NAME(kev_widen_bf16)(float *restrict dst, const void *restrict src, long n,
                               long *restrict nonfinite) {
  const unsigned char *p = (const unsigned char *)src;
  long bad = 0;
  for (long i = 0; i < n; i++) {
    uint16_t u;
    memcpy(&u, p + 2 * i, 2);
    uint32_t w = (uint32_t)u << 16;
    memcpy(dst + i, &w, 4);
    bad += (u & 0x7F80u) == 0x7F80u;
  }
  *nonfinite = bad;
}

KEV_TARGET static void KEV_NAME(kev_layernorm)(float *restrict out, const float *restrict x, const float *restrict g,
                              const float *restrict b, long d, long t, float eps) {
  for (long j = 0; j < t; j++) {
    const float *col = x + j * d;
    double acc[KEV_LANES] = {0};
    long i = 0;
    for (; i + KEV_LANES <= d; i += KEV_LANES)
      for (int k = 0; k < KEV_LANES; k++) acc[k] += (double)col[i + k];
    double s = 0;
    for (int k = 0; k < KEV_LANES; k++) s += acc[k];
    for (; i < d; i++) s += (double)col[i];
    double mean = s / (double)d;
    double sq[KEV_LANES] = {0};
    i = 0;
    for (; i + KEV_LANES <= d; i += KEV_LANES)
      for (int k = 0; k < KEV_LANES; k++) {
        double c = (double)col[i + k] - mean;
        sq[k] += c * c;
      }
    double ss = 0;
    for (int k = 0; k < KEV_LANES; k++) ss += sq[k];
    for (; i < d; i++) ss += ((double)col[i] - mean) * ((double)col[i] - mean);
    // x - mean in fp64: a column far from zero would lose the digits of its spread in fp32.
    double inv = 1.0 / sqrt(ss / (double)d + (double)eps);
    float *o = out + j * d;
    for (i = 0; i < d; i++) o[i] = (float)(((double)col[i] - mean) * inv) * g[i] + b[i];
  }
}

KEV_TARGET static void KEV_NAME(kev_gelu_tanh)(float *restrict x, long n) {
  for (long i = 0; i < n; i++) {
    float v = x[i];
    float u = 0.7978845608f * (v + 0.044715f * v * v * v);
    float th = 1.0f - 2.0f / (1.0f + kev_expf(2.0f * u));
    x[i] = 0.5f * v * (1.0f + th);
  }
}

KEV_TARGET static void KEV_NAME(kev_rope_neox)(float *restrict x, long rows, long t, long heads, long headDim,
                              long half, const float *restrict cosines, const float *restrict sines) {
  for (long j = 0; j < t; j++) {
    const float *cs = cosines + j * half;
    const float *sn = sines + j * half;
    for (long h = 0; h < heads; h++) {
      float *hp = x + j * rows + h * headDim;
      for (long i = 0; i < half; i++) {
        float a = hp[i], b = hp[i + half];
        hp[i] = a * cs[i] - b * sn[i];
        hp[i + half] = a * sn[i] + b * cs[i];
      }
    }
  }
}

KEV_TARGET static void KEV_NAME(kev_swiglu_backward)(float *restrict dgate, float *restrict dup,
                                    const float *restrict dkeys, const float *restrict gate,
                                    const float *restrict up, long n) {
  for (long i = 0; i < n; i++) {
    float g = gate[i];
    float s = 1.0f / (1.0f + kev_expf(-g));
    dgate[i] = dkeys[i] * up[i] * s * (1.0f + g * (1.0f - s));
    dup[i] = dkeys[i] * g * s;
  }
}
