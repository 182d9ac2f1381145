// OpenMP loops over strided operands for the cpu backend's element-wise
// kernels: the work is cut into equal element ranges (a contiguous tensor is
// one long row), and rows whose operands all have unit stride get a tight loop.
#pragma once

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <type_traits>
#include <utility>

#include "backends/common/strided.h"
#include "backends/common/convert.h"
#include "cortex/core/tensor.h"

namespace cortex::backend::cpu {

// Elements per thread below which a loop stays on one thread: cheap ops
// (copies, arithmetic) and ops that call exp/erf/tanh per element.
inline constexpr std::int64_t kGrainCheap = 1 << 15;
inline constexpr std::int64_t kGrainMath = 1 << 11;

// Calls fn(offsets, len) over pieces of `loop`'s rows that together cover
// every element once, on up to num_threads threads (at least `grain` elements each).
template <std::size_t N, typename Fn>
void parallel_rows(const StridedLoop<N>& loop, std::int64_t grain, Fn&& fn) {
  const std::int64_t L = loop.row_len(), rows = loop.rows(), total = L * rows;
  if (total == 0) return;
  const std::int64_t chunks = std::min<std::int64_t>(omp_in_parallel() ? 1 : omp_get_max_threads(),
                                                     (total + grain - 1) / grain);
  if (chunks <= 1) {
    loop.for_rows(0, rows, fn);
    return;
  }
#pragma omp parallel for num_threads(static_cast <int>(chunks)) schedule(static, 1)
  for (std::int64_t c = 0; c < chunks; ++c) {
    const std::int64_t e0 = total * c / chunks, e1 = total * (c + 1) / chunks;
    std::int64_t row = e0 / L;
    loop.for_rows(row, (e1 + L - 1) / L, [&](std::array<std::int64_t, N> off, std::int64_t) {
      const std::int64_t begin = std::max<std::int64_t>(e0 - row * L, 0);
      const std::int64_t end = std::min<std::int64_t>(e1 - row * L, L);
      for (std::size_t k = 0; k < N; ++k) off[k] += begin * loop.strides[k].back();
      fn(off, end - begin);
      ++row;
    });
  }
}

namespace detail {

template <typename Out, typename... In, typename F, std::size_t... I>
void map_impl(Tensor& out, std::int64_t grain, F f,
              const std::array<const Tensor*, sizeof...(In)>& in, std::index_sequence<I...>) {
  constexpr std::size_t N = sizeof...(In) + 1;
  const std::array<const Tensor*, N> ops{&out, in[I]...};
  const StridedLoop<N> loop = make_loop<N>(out.shape(), ops);
  Out* const po = storage_ptr<Out>(out);
  const std::tuple<const In*...> pin{storage_ptr<In>(*in[I])...};
  std::array<std::int64_t, N> s{};
  for (std::size_t k = 0; k < N; ++k) s[k] = loop.strides[k].back();
  const bool unit = std::all_of(s.begin(), s.end(), [](std::int64_t v) { return v == 1; });
  parallel_rows(loop, grain, [&](const std::array<std::int64_t, N>& off, std::int64_t len) {
    Out* o = po + off[0];
    const std::tuple<const In*...> p{(std::get<I>(pin) + off[I + 1])...};
    if (unit) {
#pragma omp simd
      for (std::int64_t i = 0; i < len; ++i) o[i] = f(std::get<I>(p)[i]...);
    } else {
      for (std::int64_t i = 0; i < len; ++i) o[i * s[0]] = f(std::get<I>(p)[i * s[I + 1]]...);
    }
  });
}

}  // namespace detail

// out = f(in[0][i], in[1][i], ...) for every element; Out and In... are the
// C++ element types of out and the inputs, all of out's shape (strided).
template <typename Out, typename... In, typename F>
void map(Tensor& out, std::int64_t grain, F f, const std::array<const Tensor*, sizeof...(In)>& in) {
  detail::map_impl<Out, In...>(out, grain, f, in, std::index_sequence_for<In...>{});
}


}  // namespace cortex::backend::cpu
