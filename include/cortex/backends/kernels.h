// The dispatch table: one row of kernels per backend, one column per op.
//
// Ops (src/ops/) check arguments, allocate outputs and call the kernel of the
// backend that owns the inputs' device. Each backend fills its row in an
// explicit register_*() call (see registry.cpp); an empty cell is a clear error.
//
// Kernel contracts, shared by every backend:
//  - `out`-style arguments are preallocated by the op, contiguous, with the
//    right shape and dtype. Inputs may be strided (stride 0 = broadcast) unless
//    the contract says "contiguous".
//  - Floating kernels accept f32 and f64 (f64 serves gradient checks); a
//    backend that cannot run f64 fast hands it to the reference kernel.
//  - bf16 (autocast's activations, cortex/ops/autocast.h): CUDA's unary,
//    binary, bernoulli, reduce, pool2d, matmul and conv kernels take it and
//    compute in float; a kernel without bf16 throws DTypeError naming it.
#pragma once

#include <cstdint>

#include "cortex/core/tensor.h"

namespace cortex::backend {

enum class Backend : std::uint8_t { Ref, Cpu, Cuda };
inline constexpr int kNumBackends = 3;
const char* backend_name(Backend b);

enum class UnaryOp : std::uint8_t {
  neg, exp, log, sqrt, rsqrt, abs, square, sign,
  relu, leaky_relu, elu, selu, sigmoid, tanh, gelu, softplus, silu,
  clamp,  // to [p.a, p.b]
};
const char* unary_name(UnaryOp op);

// Scalar parameters of a unary op: leaky_relu slope (a), elu alpha (a),
// clamp bounds (a, b). Unused by the others.
struct UnaryParams {
  double a = 0.0;
  double b = 0.0;
};

enum class BinaryOp : std::uint8_t {
  add, sub, mul, div, pow, maximum, minimum,
  eq, ne, lt, le, gt, ge,  // comparisons write a bool tensor
};
const char* binary_name(BinaryOp op);
inline bool is_comparison(BinaryOp op) { return op >= BinaryOp::eq; }

enum class ReduceOp : std::uint8_t { sum, mean, max, min, argmax, argmin };
const char* reduce_name(ReduceOp op);

// 2-D convolution geometry. x: (N, H, W, C) NHWC; w: (KH, KW, C / groups, O) HWIO;
// y: (N, OH, OW, O). Dilation 1 means a dense kernel (PyTorch's convention).
struct Conv2dParams {
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
  std::int64_t groups = 1;
};

enum class PoolKind : std::uint8_t { max, avg };

// 2-D pooling geometry on NHWC tensors. Average pooling divides by the number
// of elements inside the input (padding excluded), as Keras does.
struct Pool2dParams {
  PoolKind kind = PoolKind::max;
  std::int64_t kernel_h = 2, kernel_w = 2;
  std::int64_t stride_h = 2, stride_w = 2;
  std::int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
};

// A whole recurrent layer over a sequence in one kernel (oneDNN's RNN
// primitives on the cpu backend). Cells: vanilla (activation tanh, relu or
// sigmoid), LSTM (gates [i, f, c, o], sigmoid and tanh) and GRU "linear before
// reset" (gates [z, r, h]; the reset gate multiplies the recurrent product and
// its bias: Keras's reset_after, PyTorch's and cuDNN's GRU).
enum class RnnCell : std::uint8_t { vanilla_tanh, vanilla_relu, vanilla_sigmoid, lstm, gru };
inline int rnn_gates(RnnCell c) { return c == RnnCell::lstm ? 4 : c == RnnCell::gru ? 3 : 1; }

// The operands of the rnn kernels, all contiguous, one dtype (f32):
//  x (N, T, F); h0 (N, U); c0 (N, U) for an LSTM (undefined otherwise);
//  kernel (F, G * U) and recurrent_kernel (U, G * U) in Keras's layout (G gates);
//  bias (G * U), or (4 * U) for a GRU: [b_z, b_r, b_h (input), b_h (recurrent)],
//  where b_z and b_r add the input and the recurrent biases.
// Outputs: y (N, T, U) every step's h, h_n and c_n (N, U) the last states.
struct RnnTensors {
  Tensor x, h0, c0, kernel, recurrent_kernel, bias;
  Tensor y, h_n, c_n;
};

// One fused optimiser update (Keras's formulas; src/optim/ holds the same
// update composed of tensor ops, which backends without the kernel run).
enum class OptimizerKind : std::uint8_t { sgd, adadelta, adam };
struct OptimizerStep {
  OptimizerKind kind = OptimizerKind::sgd;
  double lr = 0.0;  // Adam: the step size with both bias corrections folded in
  double momentum = 0.0;  // sgd: 0 means no slot
  bool nesterov = false;  // sgd
  double rho = 0.0;       // adadelta
  double beta_1 = 0.0, beta_2 = 0.0;  // adam
  bool amsgrad = false;               // adam
  double epsilon = 0.0;               // adadelta, adam
  bool operator==(const OptimizerStep&) const = default;  // steps that one group launch can share
};

// The slots a step reads and writes: SGD's momentum (if any), Adadelta's two
// accumulators, Adam's two moments and AMSGrad's running maximum.
inline int slot_count(const OptimizerStep& s) {
  switch (s.kind) {
    case OptimizerKind::sgd: return s.momentum != 0 ? 1 : 0;
    case OptimizerKind::adadelta: return 2;
    case OptimizerKind::adam: return s.amsgrad ? 3 : 2;
  }
  return 0;
}

struct Kernels {
  // out[...] = value, any dtype.
  void (*fill)(Tensor& out, double value) = nullptr;
  // dst = src elementwise, same shape; any dtypes (converting); src strided.
  // dst may be strided here too (it is the one kernel that writes into views).
  // src and dst never overlap: Tensor::copy_ stages a source that shares dst's storage.
  void (*copy)(const Tensor& src, Tensor& dst) = nullptr;

  // out = op(x); x strided, out same shape and dtype.
  void (*unary)(UnaryOp op, const Tensor& x, Tensor& out, const UnaryParams& p) = nullptr;
  // dx = dy * op'(x), given x, y = op(x) and dy (all the same shape, strided).
  void (*unary_backward)(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& dy,
                         Tensor& dx, const UnaryParams& p) = nullptr;
  // out = a op b; a and b already expanded to out's shape (strided, stride 0 for
  // broadcast axes), same dtype. Comparisons write bool.
  void (*binary)(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) = nullptr;
  // out = cond ? a : b; cond bool, all expanded to out's shape.
  void (*where)(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out) = nullptr;
  // out[i] = scale if uniform01(word i % 4 of Philox block first_block + i / 4 under seed) < p, else 0:
  // the draw of cortex::bernoulli (scale 1), made where `out` lives; dropout passes
  // scale = 1 / keep. out contiguous, f32 or f64.
  void (*bernoulli)(Tensor& out, double p, double scale, std::uint64_t seed, std::uint64_t first_block) = nullptr;

  // x: (M, K) contiguous -> out: (M). sum/mean/max/min keep x's dtype; argmax/argmin write i64
  // (the first index of the extreme value). NaN wins max/min, like numpy.
  void (*reduce)(ReduceOp op, const Tensor& x, Tensor& out) = nullptr;
  // Softmax (or log-softmax) along the last axis. x: (M, K) contiguous -> out (M, K).
  void (*softmax)(const Tensor& x, Tensor& out, bool log) = nullptr;
  // dx from y = softmax(x) (or log_softmax) and dy; all (M, K) contiguous.
  void (*softmax_backward)(const Tensor& y, const Tensor& dy, Tensor& dx, bool log) = nullptr;
  // Softmax cross-entropy in one pass over each row. logits, targets: (M, K)
  // contiguous, one dtype -> loss (M) = sum_k t_k (logsumexp(x) - x_k); and,
  // when grad is not null, grad (M, K) = softmax(x) * sum_k t_k - t (the
  // gradient of each row's loss with respect to its logits).
  void (*softmax_cross_entropy)(const Tensor& logits, const Tensor& targets, Tensor& loss, Tensor* grad) = nullptr;

  // out = a @ b (+ bias). a: (B, M, K), b: (B, K, N), any strides; bias: (N) contiguous
  // or null; out: (B, M, N) contiguous.
  void (*matmul)(const Tensor& a, const Tensor& b, const Tensor* bias, Tensor& out) = nullptr;

  // All conv tensors contiguous; shapes as in Conv2dParams. bias: (O) or null.
  void (*conv2d)(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y,
                 const Conv2dParams& p) = nullptr;
  void (*conv2d_backward_data)(const Tensor& dy, const Tensor& w, Tensor& dx,
                               const Conv2dParams& p) = nullptr;
  // db: (O) or null; when given it receives the sum of dy over (N, OH, OW) (the
  // bias gradient, which oneDNN computes in the same pass).
  void (*conv2d_backward_weight)(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* db,
                                 const Conv2dParams& p) = nullptr;

  // x: (N, H, W, C) contiguous -> y: (N, OH, OW, C). For max pooling the kernel
  // may fill `workspace` (its own format: whatever its backward needs) when
  // the pointer is not null; the backward gets it back unchanged.
  void (*pool2d)(const Pool2dParams& p, const Tensor& x, Tensor& y, Tensor* workspace) = nullptr;
  void (*pool2d_backward)(const Pool2dParams& p, const Tensor& x, const Tensor& dy,
                          const Tensor& workspace, Tensor& dx) = nullptr;

  // out[o, m, i] = x[o, index[o, m, i], i]. x: (O, N, I) strided; index: (O, M, I)
  // i64, strided (index_select passes a stride-0 expanded vector); out (O, M, I).
  // An index outside [0, N) throws IndexError.
  void (*gather)(const Tensor& x, const Tensor& index, Tensor& out) = nullptr;
  // out[o, index[o, m, i], i] += src[o, m, i]; out (O, N, I) contiguous, already holding
  // its starting values.
  void (*scatter_add)(const Tensor& src, const Tensor& index, Tensor& out) = nullptr;

  // Batch normalisation per channel. x: (..., C) contiguous, its leading axes
  // the batch (NHWC activations, or (N, C) features); gamma, beta: (C) or
  // null (1 and 0); mean, var, y like the names say, all contiguous.
  //  training: mean, var (C) receive the batch's mean and biased variance;
  //  evaluation: mean, var are inputs (the moving averages).
  // y = (x - mean) / sqrt(var + eps) * gamma + beta. In training a backend may
  // fill `workspace` (its own format) for its backward.
  void (*batch_norm)(const Tensor& x, const Tensor* gamma, const Tensor* beta, bool training, double eps,
                     Tensor& mean, Tensor& var, Tensor& y, Tensor* workspace) = nullptr;
  // The training-mode gradient (batch statistics), given what batch_norm
  // returned: dx like x; dgamma, dbeta (C) when not null.
  void (*batch_norm_backward)(const Tensor& x, const Tensor& dy, const Tensor* gamma, const Tensor& mean,
                              const Tensor& var, double eps, const Tensor& workspace, Tensor& dx, Tensor* dgamma,
                              Tensor* dbeta) = nullptr;

  // Runs the recurrent layer over the whole sequence: fills t.y, t.h_n and t.c_n
  // (LSTM). In training (`workspace` not null) *workspace becomes what the
  // backward needs (the backend's own format). Optional: the recurrent layers
  // run their composed cell loop without it (and for masks, dropout between
  // steps, other activations, and dtypes the backend declines: rnn_supports).
  void (*rnn)(RnnCell cell, RnnTensors& t, Tensor* workspace) = nullptr;
  // The gradients from dy (N, T, U), dh_n and dc_n (N, U; zeros where unused),
  // given the forward's tensors and workspace: dx, dh0, dc0 (LSTM), dkernel,
  // drecurrent_kernel, dbias, preallocated like the forward's operands.
  void (*rnn_backward)(RnnCell cell, const RnnTensors& t, const Tensor& workspace, const Tensor& dy,
                       const Tensor& dh_n, const Tensor& dc_n, RnnTensors& grads) = nullptr;
  // Whether rnn above runs `cell` for this dtype (a backend may have the
  // kernel for f32 only).
  bool (*rnn_supports)(RnnCell cell, DType dtype) = nullptr;

  // Updates param and its slots in place in one pass: sgd (slots: momentum when
  // momentum != 0), adadelta (accumulated grad, accumulated delta), adam (m, v,
  // and v_hat with amsgrad). param, grad and slots contiguous, one shape, f32 or f64.
  // Optional: the optimisers fall back to their composed update without it.
  void (*optimizer_step)(const OptimizerStep& step, Tensor& param, const Tensor& grad, Tensor* slots) = nullptr;
  // The same update for `count` parameters at once (one optimiser step's
  // parameters on one device, one dtype); slots[i] holds parameter i's slots.
  // Optional: without it each parameter gets its own optimizer_step call.
  void (*optimizer_step_group)(const OptimizerStep& step, Tensor* params, const Tensor* grads, Tensor* const* slots,
                               std::int64_t count) = nullptr;
};

// Math modes of the CUDA backend; the defaults are PyTorch's: convolutions
// may use TF32 tensor cores (10-bit mantissa products, FP32 sums), matrix
// products stay in full FP32. Tests that compare with the reference to 1e-4
// turn conv_tf32 off.
struct CudaMath {
  bool conv_tf32 = true;
  bool matmul_tf32 = false;
};
CudaMath& cuda_math();

// The backend that runs ops on tensors of `device`: Cuda for CUDA memory; for
// CPU memory the cpu backend, or ref inside a BackendScope (tests).
Backend backend_for(Device device);
const Kernels& kernels(Backend backend);

// Looks up one cell, throwing a clear error when the backend lacks the op:
//   dispatch(&Kernels::conv2d, x.device(), "conv2d")(x, w, ...);
template <typename Fn>
Fn dispatch(Fn Kernels::*cell, Device device, const char* op_name);

// Routes CPU ops to `backend` (Ref or Cpu) on this thread while alive.
class BackendScope {
 public:
  explicit BackendScope(Backend cpu_backend);
  ~BackendScope();
  BackendScope(const BackendScope&) = delete;
  BackendScope& operator=(const BackendScope&) = delete;

 private:
  Backend previous_;
};

bool cuda_available();  // a CUDA backend was built and sees a device
// Starts or stops the CUDA profiler's capture (cudaProfilerStart/Stop), so that
// `ncu --profile-from-start off` sees only the steps in between; a no-op
// without CUDA.
void cuda_profiler(bool on);

// Filled by each backend's register function (called once, from registry.cpp).
void register_ref(Kernels& row);
void register_cpu(Kernels& row);
void register_cuda(Kernels& row);  // built with the cuda preset; absent otherwise

[[noreturn]] void missing_kernel(const char* op_name, Backend backend);

template <typename Fn>
Fn dispatch(Fn Kernels::*cell, Device device, const char* op_name) {
  Backend b = backend_for(device);
  Fn fn = kernels(b).*cell;
  if (fn == nullptr) missing_kernel(op_name, b);
  return fn;
}

}  // namespace cortex::backend
