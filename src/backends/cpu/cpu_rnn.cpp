// cpu recurrent layers on oneDNN's RNN primitives: vanilla RNN, LSTM and GRU
// "linear before reset", forward (inference or training, which fills the
// workspace) and backward, for whole sequences in f32. Keras's kernel layout
// (features, gates * units) with gates [i, f, c, o] (LSTM) or [z, r, h] (GRU)
// is oneDNN's ldigo with its gate order, so the weights go in as they are;
// the primitive reorders them to the layout it prefers.
#include <cstring>
#include <string>
#include <type_traits>
#include <unordered_map>

#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/dnnl_context.h"

namespace cortex::backend::cpu {
namespace {

using dnnl::memory;
using dnnl::prop_kind;
using tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;
constexpr auto l2r = dnnl::rnn_direction::unidirectional_left2right;

struct Dims {
  std::int64_t n, t, f, u, g, bias_gates;
};

Dims dims_of(RnnCell cell, const RnnTensors& t) {
  const int g = rnn_gates(cell);
  return {t.x.shape()[0], t.x.shape()[1], t.x.shape()[2], t.h0.shape()[1], g, cell == RnnCell::gru ? 4 : g};
}

// The memory descriptors of one call: the user's layouts (contiguous
// tensors), and format_tag::any for the weights, which the primitive picks.
struct Descs {
  memory::desc layer_in, state, cell_state, w_layer, w_iter, bias, layer_out;
  memory::desc w_layer_any, w_iter_any, bias_any;
};

Descs descs(RnnCell cell, const Dims& d) {
  Descs s;
  s.layer_in = memory::desc({d.t, d.n, d.f}, f32, tag::ntc);
  s.state = memory::desc({1, 1, d.n, d.u}, f32, tag::ldnc);
  if (cell == RnnCell::lstm) s.cell_state = s.state;
  s.w_layer = memory::desc({1, 1, d.f, d.g, d.u}, f32, tag::ldigo);
  s.w_iter = memory::desc({1, 1, d.u, d.g, d.u}, f32, tag::ldigo);
  s.bias = memory::desc({1, 1, d.bias_gates, d.u}, f32, tag::ldgo);
  s.layer_out = memory::desc({d.t, d.n, d.u}, f32, tag::ntc);
  s.w_layer_any = memory::desc({1, 1, d.f, d.g, d.u}, f32, tag::any);
  s.w_iter_any = memory::desc({1, 1, d.u, d.g, d.u}, f32, tag::any);
  s.bias_any = memory::desc({1, 1, d.bias_gates, d.u}, f32, tag::any);
  return s;
}

dnnl::algorithm vanilla_activation(RnnCell cell) {
  switch (cell) {
    case RnnCell::vanilla_relu: return dnnl::algorithm::eltwise_relu;
    case RnnCell::vanilla_sigmoid: return dnnl::algorithm::eltwise_logistic;
    default: return dnnl::algorithm::eltwise_tanh;
  }
}

// The forward primitive descriptor of `cell` (the backward's hint too).
template <typename Visit>
auto with_forward_pd(RnnCell cell, const Descs& s, bool training, Visit&& visit) {
  const prop_kind kind = training ? prop_kind::forward_training : prop_kind::forward_inference;
  switch (cell) {
    case RnnCell::lstm:
      return visit(dnnl::lstm_forward::primitive_desc(
          dnnl::lstm_forward::desc(kind, l2r, s.layer_in, s.state, s.cell_state, s.w_layer_any, s.w_iter_any,
                                   s.bias_any, s.layer_out, s.state, s.cell_state),
          engine()));
    case RnnCell::gru:
      return visit(dnnl::lbr_gru_forward::primitive_desc(
          dnnl::lbr_gru_forward::desc(kind, l2r, s.layer_in, s.state, s.w_layer_any, s.w_iter_any, s.bias_any,
                                      s.layer_out, s.state),
          engine()));
    default:
      return visit(dnnl::vanilla_rnn_forward::primitive_desc(
          dnnl::vanilla_rnn_forward::desc(kind, vanilla_activation(cell), l2r, s.layer_in, s.state, s.w_layer_any,
                                          s.w_iter_any, s.bias_any, s.layer_out, s.state),
          engine()));
  }
}

struct ForwardEntry {
  dnnl::primitive prim;
  Operand w_layer, w_iter, bias;
  memory::desc workspace;
};

struct BackwardEntry {
  dnnl::primitive prim;
  Operand w_layer, w_iter, bias, dw_layer, dw_iter, dbias;
  memory::desc workspace;  // the training forward's
};

template <typename Fwd, typename Pd>
ForwardEntry forward_entry(const Pd& pd, const Descs& s) {
  return ForwardEntry{Fwd(pd), Operand(s.w_layer, pd.weights_layer_desc(), true),
                      Operand(s.w_iter, pd.weights_iter_desc(), true), Operand(s.bias, pd.bias_desc(), true),
                      pd.workspace_desc()};
}

ForwardEntry make_forward(RnnCell cell, const Descs& s, bool training) {
  return with_forward_pd(cell, s, training, [&](const auto& pd) {
    using Pd = std::decay_t<decltype(pd)>;
    if constexpr (std::is_same_v<Pd, dnnl::lstm_forward::primitive_desc>)
      return forward_entry<dnnl::lstm_forward>(pd, s);
    else if constexpr (std::is_same_v<Pd, dnnl::lbr_gru_forward::primitive_desc>)
      return forward_entry<dnnl::lbr_gru_forward>(pd, s);
    else
      return forward_entry<dnnl::vanilla_rnn_forward>(pd, s);
  });
}

template <typename Bwd, typename Pd>
BackwardEntry backward_entry(const Pd& pd, const Descs& s, const memory::desc& workspace) {
  return BackwardEntry{Bwd(pd),
                       Operand(s.w_layer, pd.weights_layer_desc(), true),
                       Operand(s.w_iter, pd.weights_iter_desc(), true),
                       Operand(s.bias, pd.bias_desc(), true),
                       Operand(s.w_layer, pd.diff_weights_layer_desc(), false),
                       Operand(s.w_iter, pd.diff_weights_iter_desc(), false),
                       Operand(s.bias, pd.diff_bias_desc(), false),
                       workspace};
}

BackwardEntry make_backward(RnnCell cell, const Descs& s) {
  return with_forward_pd(cell, s, true, [&](const auto& hint) {
    using Hint = std::decay_t<decltype(hint)>;
    const prop_kind b = prop_kind::backward;
    if constexpr (std::is_same_v<Hint, dnnl::lstm_forward::primitive_desc>) {
      return backward_entry<dnnl::lstm_backward>(
          dnnl::lstm_backward::primitive_desc(
              dnnl::lstm_backward::desc(b, l2r, s.layer_in, s.state, s.cell_state, s.w_layer_any, s.w_iter_any,
                                        s.bias_any, s.layer_out, s.state, s.cell_state, s.layer_in, s.state,
                                        s.cell_state, s.w_layer_any, s.w_iter_any, s.bias_any, s.layer_out, s.state,
                                        s.cell_state),
              engine(), hint),
          s, hint.workspace_desc());
    } else if constexpr (std::is_same_v<Hint, dnnl::lbr_gru_forward::primitive_desc>) {
      return backward_entry<dnnl::lbr_gru_backward>(
          dnnl::lbr_gru_backward::primitive_desc(
              dnnl::lbr_gru_backward::desc(b, l2r, s.layer_in, s.state, s.w_layer_any, s.w_iter_any, s.bias_any,
                                           s.layer_out, s.state, s.layer_in, s.state, s.w_layer_any, s.w_iter_any,
                                           s.bias_any, s.layer_out, s.state),
              engine(), hint),
          s, hint.workspace_desc());
    } else {
      return backward_entry<dnnl::vanilla_rnn_backward>(
          dnnl::vanilla_rnn_backward::primitive_desc(
              dnnl::vanilla_rnn_backward::desc(b, vanilla_activation(cell), l2r, s.layer_in, s.state, s.w_layer_any,
                                               s.w_iter_any, s.bias_any, s.layer_out, s.state, s.layer_in, s.state,
                                               s.w_layer_any, s.w_iter_any, s.bias_any, s.layer_out, s.state),
              engine(), hint),
          s, hint.workspace_desc());
    }
  });
}

std::string describe(RnnCell cell, const RnnTensors& t) {
  const char* name = cell == RnnCell::lstm ? "LSTM" : cell == RnnCell::gru ? "GRU" : "vanilla RNN";
  return cortex::detail::cat(name, " over x ", shape_str(t.x.shape()), " with ", t.h0.shape()[1], " units");
}

// oneDNN adds the weights' gradients into what the memory holds: start from zeros.
memory zeroed(memory m) {
  std::memset(m.get_data_handle(), 0, m.get_desc().get_size());
  return m;
}

// What the forward and the backward both pass: the sequence, the states in and
// out, and the weights in the primitive's layout (scratch slots 0-2).
template <typename Entry>
std::unordered_map<int, memory> forward_args(RnnCell cell, const Descs& s, const Entry& e, const RnnTensors& t) {
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC_LAYER, memory(s.layer_in, engine(), handle(t.x))},
      {DNNL_ARG_SRC_ITER, memory(s.state, engine(), handle(t.h0))},
      {DNNL_ARG_WEIGHTS_LAYER, e.w_layer.input(handle(t.kernel), 0)},
      {DNNL_ARG_WEIGHTS_ITER, e.w_iter.input(handle(t.recurrent_kernel), 1)},
      {DNNL_ARG_BIAS, e.bias.input(handle(t.bias), 2)},
      {DNNL_ARG_DST_LAYER, memory(s.layer_out, engine(), handle(t.y))},
      {DNNL_ARG_DST_ITER, memory(s.state, engine(), handle(t.h_n))}};
  if (cell == RnnCell::lstm) {
    args.emplace(DNNL_ARG_SRC_ITER_C, memory(s.cell_state, engine(), handle(t.c0)));
    args.emplace(DNNL_ARG_DST_ITER_C, memory(s.cell_state, engine(), handle(t.c_n)));
  }
  return args;
}

}  // namespace

bool rnn_supports(RnnCell, DType dtype) { return dtype == DType::f32; }

void rnn(RnnCell cell, RnnTensors& t, Tensor* workspace) {
  if (!rnn_supports(cell, t.x.dtype()))
    fail<DTypeError>("cpu rnn runs f32, got ", dtype_name(t.x.dtype()), " (the recurrent layers compose other dtypes)");
  const bool training = workspace != nullptr;
  run_dnnl(
      "rnn", [&] { return describe(cell, t); },
      [&] {
        const Dims d = dims_of(cell, t);
        const Descs s = descs(cell, d);
        const auto e = cached<ForwardEntry>(key("rnn_fwd", t.x.shape(), d.u, static_cast<int>(cell), training),
                                            [&] { return make_forward(cell, s, training); });
        std::unordered_map<int, memory> args = forward_args(cell, s, *e, t);
        if (training) {
          *workspace = Tensor::empty({static_cast<std::int64_t>(e->workspace.get_size())}, DType::u8);
          args.emplace(DNNL_ARG_WORKSPACE, memory(e->workspace, engine(), handle(*workspace)));
        }
        e->prim.execute(stream(), args);
      });
}

void rnn_backward(RnnCell cell, const RnnTensors& t, const Tensor& workspace, const Tensor& dy, const Tensor& dh_n,
                  const Tensor& dc_n, RnnTensors& g) {
  run_dnnl(
      "rnn_backward", [&] { return describe(cell, t); },
      [&] {
        const Dims d = dims_of(cell, t);
        const Descs s = descs(cell, d);
        const auto e = cached<BackwardEntry>(key("rnn_bwd", t.x.shape(), d.u, static_cast<int>(cell)),
                                             [&] { return make_backward(cell, s); });
        const std::size_t ws_bytes = e->workspace.get_size();
        if (workspace.dtype() != DType::u8 || workspace.numel() != static_cast<std::int64_t>(ws_bytes))
          fail<ValueError>("cpu rnn backward expects the workspace of the cpu forward (u8, ", ws_bytes,
                           " bytes), got ", dtype_name(workspace.dtype()), " ", shape_str(workspace.shape()));
        const memory dw_layer = zeroed(e->dw_layer.output(handle(g.kernel), 3));
        const memory dw_iter = zeroed(e->dw_iter.output(handle(g.recurrent_kernel), 4));
        const memory dbias = zeroed(e->dbias.output(handle(g.bias), 5));
        std::unordered_map<int, memory> args = forward_args(cell, s, *e, t);
        args.insert({{DNNL_ARG_WORKSPACE, memory(e->workspace, engine(), handle(workspace))},
                     {DNNL_ARG_DIFF_DST_LAYER, memory(s.layer_out, engine(), handle(dy))},
                     {DNNL_ARG_DIFF_DST_ITER, memory(s.state, engine(), handle(dh_n))},
                     {DNNL_ARG_DIFF_SRC_LAYER, memory(s.layer_in, engine(), handle(g.x))},
                     {DNNL_ARG_DIFF_SRC_ITER, memory(s.state, engine(), handle(g.h0))},
                     {DNNL_ARG_DIFF_WEIGHTS_LAYER, dw_layer},
                     {DNNL_ARG_DIFF_WEIGHTS_ITER, dw_iter},
                     {DNNL_ARG_DIFF_BIAS, dbias}});
        if (cell == RnnCell::lstm) {
          args.emplace(DNNL_ARG_DIFF_DST_ITER_C, memory(s.cell_state, engine(), handle(dc_n)));
          args.emplace(DNNL_ARG_DIFF_SRC_ITER_C, memory(s.cell_state, engine(), handle(g.c0)));
        }
        e->prim.execute(stream(), args);
        e->dw_layer.finish(dw_layer, handle(g.kernel));
        e->dw_iter.finish(dw_iter, handle(g.recurrent_kernel));
        e->dbias.finish(dbias, handle(g.bias));
      });
}

}  // namespace cortex::backend::cpu
