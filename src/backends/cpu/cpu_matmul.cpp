// cpu batched matmul on oneDNN (f32). Strided operands go to oneDNN as they
// are when it has a fast kernel for the layout (row- or column-major matrices,
// any batch stride); other layouts are first copied to contiguous scratch.
#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/cpu_loops.h"
#include "backends/cpu/dnnl_context.h"

namespace cortex::backend::cpu {
namespace {

using dnnl::memory;

// One operand as a stack of (rows, cols) matrices with element strides.
struct Mat {
  std::int64_t batch, rows, cols;  // batch 1: the same matrix for every output batch
  std::int64_t sb, sr, sc;
  const float* data;
};

// Reads a: (B, M, K) or b: (B, K, N); a size-1 or stride-0 batch becomes a
// broadcast, and size-1 axes get the strides a plain layout would have.
Mat describe(const Tensor& t) {
  const Shape& s = t.shape();
  const Strides& st = t.strides();
  Mat m{s[0], s[1], s[2], st[0], st[1], st[2], t.data<float>()};
  if (m.batch == 1 || m.sb == 0) m.batch = 1;
  if (m.rows == 1 && m.cols == 1) {
    m.sr = m.sc = 1;
  } else if (m.rows == 1) {
    m.sr = m.sc == 1 ? m.cols : 1;  // a row vector, or a column-major 1-row matrix
  } else if (m.cols == 1) {
    m.sc = m.sr == 1 ? m.rows : 1;
  }
  if (m.batch == 1) m.sb = m.rows * m.cols;
  return m;
}

// Row-major or column-major with a leading dimension that does not overlap.
bool plain_enough(const Mat& m) {
  return (m.sc == 1 && m.sr >= m.cols) || (m.sr == 1 && m.sc >= m.rows);
}

bool contiguous(const Mat& m) {
  return m.sc == 1 && m.sr == m.cols && (m.batch == 1 || m.sb == m.rows * m.cols);
}

// Copies m into `buffer` (batch, rows, cols) contiguous and points m at it.
void pack(Mat& m, Tensor& buffer) {
  buffer = Tensor::empty({m.batch, m.rows, m.cols});
  float* d = buffer.data<float>();
  const Mat src = m;
  const std::int64_t planes = src.batch * src.rows;
#pragma omp parallel for if (planes * src.cols >= kGrainCheap) schedule(static)
  for (std::int64_t pr = 0; pr < planes; ++pr) {
    const std::int64_t b = pr / src.rows, r = pr % src.rows;
    const float* s = src.data + b * src.sb + r * src.sr;
    float* o = d + pr * src.cols;
    for (std::int64_t c = 0; c < src.cols; ++c) o[c] = s[c * src.sc];
  }
  m = {src.batch, src.rows, src.cols, src.rows * src.cols, src.cols, 1, d};
}

memory::desc mat_desc(const Mat& m, bool two_d) {
  if (two_d)
    return memory::desc({m.rows, m.cols}, memory::data_type::f32, memory::dims{m.sr, m.sc});
  return memory::desc({m.batch, m.rows, m.cols}, memory::data_type::f32,
                      memory::dims{m.sb, m.sr, m.sc});
}

struct MatmulEntry {
  dnnl::matmul prim;
  memory::desc a, b, bias, out;
  bool pack = false;  // oneDNN has only its reference kernel for the layout: copy first
};

MatmulEntry make_entry(const Mat& a, const Mat& b, std::int64_t out_batch, bool has_bias) {
  const bool two_d = out_batch == 1;
  const auto build = [&](const Mat& am, const Mat& bm) {
    MatmulEntry e;
    e.a = mat_desc(am, two_d);
    e.b = mat_desc(bm, two_d);
    e.out = two_d ? plain_desc({am.rows, bm.cols}) : plain_desc({out_batch, am.rows, bm.cols});
    if (has_bias) e.bias = two_d ? plain_desc({1, bm.cols}) : plain_desc({1, 1, bm.cols});
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(e.a, e.b, e.bias, e.out), engine());
    e.prim = dnnl::matmul(pd);
    return std::pair{e, std::string_view(pd.impl_info_str()).starts_with("ref")};
  };
  if (!(contiguous(a) && contiguous(b))) {
    try {
      auto [entry, slow] = build(a, b);
      if (!slow) return entry;
    } catch (const dnnl::error&) {
      // oneDNN rejects the strides (overlapping batches): copy to contiguous.
    }
  }
  const auto plain = [](Mat m) {
    return Mat{m.batch, m.rows, m.cols, m.rows * m.cols, m.cols, 1, nullptr};
  };
  MatmulEntry packed = build(plain(a), plain(b)).first;
  packed.pack = !(contiguous(a) && contiguous(b));
  return packed;
}

}  // namespace

// a: (B, M, K), b: (B, K, N), any strides; bias: (N) contiguous or null
// -> out: (B, M, N) contiguous.
void matmul(const Tensor& a, const Tensor& b, const Tensor* bias, Tensor& out) {
  const auto ref = [&] { ref_kernel(&Kernels::matmul, "matmul")(a, b, bias, out); };
  const auto f32 = [](const Tensor& t) { return t.dtype() == DType::f32; };
  if (a.dim() != 3 || b.dim() != 3 || out.dim() != 3 || !f32(a) || !f32(b) || !f32(out) ||
      (bias != nullptr && (!f32(*bias) || !bias->is_contiguous())))
    return ref();
  const std::int64_t B = a.shape()[0], M = a.shape()[1], K = a.shape()[2], N = b.shape()[2];
  if (b.shape() != Shape{B, K, N} || out.shape() != Shape{B, M, N} || !out.is_contiguous() ||
      (bias != nullptr && bias->shape() != Shape{N}))
    return ref();  // it names what is wrong
  if (out.numel() == 0) return;
  if (K == 0) return ref();  // out = bias (or 0): nothing to multiply

  Mat am = describe(a), bm = describe(b);
  Tensor a_buffer, b_buffer;
  if (!plain_enough(am)) pack(am, a_buffer);
  if (!plain_enough(bm)) pack(bm, b_buffer);
  // Both broadcast: compute the first output matrix and replicate it.
  const bool replicate = am.batch == 1 && bm.batch == 1 && B > 1;
  // A matrix shared by every batch times a stack of row-major rows is one GEMM.
  if (bm.batch == 1 && am.batch > 1 && am.sc == 1 && am.sb == am.rows * am.sr)
    am = {1, am.batch * am.rows, am.cols, am.batch * am.rows * am.sr, am.sr, 1, am.data};
  const std::int64_t out_batch = replicate ? 1 : std::max(am.batch, bm.batch);

  const auto describe_call = [&] {
    return cortex::detail::cat("a ", shape_str(a.shape()), " strides ", shape_str(a.strides()),
                               ", b ", shape_str(b.shape()), " strides ", shape_str(b.strides()));
  };
  run_dnnl("matmul", describe_call, [&] {
    const std::string k = key("matmul", std::array{am.batch, am.rows, am.cols, am.sb, am.sr, am.sc},
                              std::array{bm.batch, bm.rows, bm.cols, bm.sb, bm.sr, bm.sc},
                              out_batch, bias != nullptr);
    const auto entry =
        cached<MatmulEntry>(k, [&] { return make_entry(am, bm, out_batch, bias != nullptr); });
    if (entry->pack) {
      if (!contiguous(am)) pack(am, a_buffer);
      if (!contiguous(bm)) pack(bm, b_buffer);
    }
    float* po = out.data<float>();
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, memory(entry->a, engine(), const_cast<float*>(am.data))},
        {DNNL_ARG_WEIGHTS, memory(entry->b, engine(), const_cast<float*>(bm.data))},
        {DNNL_ARG_DST, memory(entry->out, engine(), po)}};
    if (bias != nullptr) args.emplace(DNNL_ARG_BIAS, memory(entry->bias, engine(), handle(*bias)));
    entry->prim.execute(stream(), args);
    if (replicate)
      for (std::int64_t i = 1; i < B; ++i) std::memcpy(po + i * M * N, po, sizeof(float) * M * N);
  });
}

}  // namespace cortex::backend::cpu
