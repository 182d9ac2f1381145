// cpu batch normalisation on oneDNN: x (..., C) seen as a plain (rows, C)
// matrix, per-channel scale and shift, batch statistics in training and the
// moving averages in evaluation; and its training-mode gradient. f32 only;
// anything else goes to the reference kernel.
#include <cstdint>
#include <string>
#include <unordered_map>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/dnnl_context.h"

namespace cortex::backend::cpu {
namespace {

using dnnl::memory;
using dnnl::normalization_flags;
using dnnl::prop_kind;

// True when every operand is f32 and contiguous with the shapes of the contract.
bool fits(const Tensor& x, std::initializer_list<const Tensor*> per_channel,
          std::initializer_list<const Tensor*> like_x) {
  if (x.dtype() != DType::f32 || !x.is_contiguous() || x.dim() < 1 || x.numel() == 0) return false;
  const std::int64_t C = x.shape().back();
  for (const Tensor* t : per_channel)
    if (t != nullptr && (t->dtype() != DType::f32 || !t->is_contiguous() || t->shape() != Shape{C})) return false;
  for (const Tensor* t : like_x)
    if (t->dtype() != DType::f32 || !t->is_contiguous() || t->shape() != x.shape()) return false;
  return true;
}

normalization_flags flags(bool scale, bool shift, bool global_stats) {
  auto f = normalization_flags::none;
  if (scale) f |= normalization_flags::use_scale;
  if (shift) f |= normalization_flags::use_shift;
  if (global_stats) f |= normalization_flags::use_global_stats;
  return f;
}

memory::desc rows_desc(const Tensor& x) {
  const std::int64_t C = x.shape().back();
  return plain_desc({x.numel() / C, C});
}

dnnl::batch_normalization_forward::primitive_desc forward_pd(const memory::desc& data, double eps,
                                                              normalization_flags f, bool training) {
  return dnnl::batch_normalization_forward::primitive_desc(
      dnnl::batch_normalization_forward::desc(training ? prop_kind::forward_training : prop_kind::forward_inference,
                                              data, static_cast<float>(eps), f),
      engine());
}

std::string describe(const Tensor& x, double eps) {
  return cortex::detail::cat("batch normalisation of x ", shape_str(x.shape()), ", epsilon ", eps);
}

}  // namespace

void batch_norm(const Tensor& x, const Tensor* gamma, const Tensor* beta, bool training, double eps, Tensor& mean,
                Tensor& var, Tensor& y, Tensor* workspace) {
  if (!fits(x, {gamma, beta, &mean, &var}, {&y}))
    return ref_kernel(&Kernels::batch_norm, "batch_norm")(x, gamma, beta, training, eps, mean, var, y, workspace);
  run_dnnl(
      "batch_norm", [&] { return describe(x, eps); },
      [&] {
        const memory::desc data = rows_desc(x), channel = plain_desc({x.shape().back()});
        const normalization_flags f = flags(gamma != nullptr, beta != nullptr, !training);
        const auto prim = cached<dnnl::batch_normalization_forward>(
            key("bn_fwd", x.shape(), eps, static_cast<int>(f), training),
            [&] { return dnnl::batch_normalization_forward(forward_pd(data, eps, f, training)); });
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(data, engine(), handle(x))},
                                             {DNNL_ARG_DST, memory(data, engine(), handle(y))},
                                             {DNNL_ARG_MEAN, memory(channel, engine(), handle(mean))},
                                             {DNNL_ARG_VARIANCE, memory(channel, engine(), handle(var))}};
        if (gamma != nullptr) args.emplace(DNNL_ARG_SCALE, memory(channel, engine(), handle(*gamma)));
        if (beta != nullptr) args.emplace(DNNL_ARG_SHIFT, memory(channel, engine(), handle(*beta)));
        prim->execute(stream(), args);
      });
}

void batch_norm_backward(const Tensor& x, const Tensor& dy, const Tensor* gamma, const Tensor& mean, const Tensor& var,
                         double eps, const Tensor& workspace, Tensor& dx, Tensor* dgamma, Tensor* dbeta) {
  if (!fits(x, {gamma, &mean, &var, dgamma, dbeta}, {&dy, &dx}))
    return ref_kernel(&Kernels::batch_norm_backward, "batch_norm_backward")(x, dy, gamma, mean, var, eps, workspace,
                                                                          dx, dgamma, dbeta);
  run_dnnl(
      "batch_norm_backward", [&] { return describe(x, eps); },
      [&] {
        const memory::desc data = rows_desc(x), channel = plain_desc({x.shape().back()});
        const bool scale = gamma != nullptr, shift = dbeta != nullptr;
        const normalization_flags f = flags(scale, shift, false);
        const auto prim = cached<dnnl::batch_normalization_backward>(
            key("bn_bwd", x.shape(), eps, static_cast<int>(f)), [&] {
              const prop_kind kind = scale || shift ? prop_kind::backward : prop_kind::backward_data;
              return dnnl::batch_normalization_backward(dnnl::batch_normalization_backward::primitive_desc(
                  dnnl::batch_normalization_backward::desc(kind, data, data, static_cast<float>(eps), f), engine(),
                  forward_pd(data, eps, f, true)));
            });
        const std::size_t channel_bytes = static_cast<std::size_t>(x.shape().back()) * sizeof(float);
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(data, engine(), handle(x))},
                                             {DNNL_ARG_DIFF_DST, memory(data, engine(), handle(dy))},
                                             {DNNL_ARG_DIFF_SRC, memory(data, engine(), handle(dx))},
                                             {DNNL_ARG_MEAN, memory(channel, engine(), handle(mean))},
                                             {DNNL_ARG_VARIANCE, memory(channel, engine(), handle(var))}};
        if (scale) {
          args.emplace(DNNL_ARG_SCALE, memory(channel, engine(), handle(*gamma)));
          args.emplace(DNNL_ARG_DIFF_SCALE,
                       memory(channel, engine(), dgamma != nullptr ? handle(*dgamma) : scratch(0, channel_bytes)));
        }
        if (shift) {  // oneDNN asks for the shift as an input too, though the gradient never reads it
          args.emplace(DNNL_ARG_SHIFT, memory(channel, engine(), scratch(1, channel_bytes)));
          args.emplace(DNNL_ARG_DIFF_SHIFT, memory(channel, engine(), handle(*dbeta)));
        }
        prim->execute(stream(), args);
      });
}

}  // namespace cortex::backend::cpu
