// The one door to zlib (Debian's zlib1g-dev): raw deflate streams of zip members and CRC-32.
#include <zlib.h>

/// inflateInit2 is a macro over inflateInit2_ with the library's version and stream size.
static inline int kev_inflate_init_raw(z_stream *s) { return inflateInit2(s, -15); }
