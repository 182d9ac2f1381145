// Batched matrix products on CUDA through cuBLAS (GemmStridedBatchedEx).
//
// cuBLAS is column-major; a row-major (M, N) product C = A B is computed as
// the column-major C^T = B^T A^T, so "A" for cuBLAS is our b and "B" is our a.
// A row-major operand with unit stride along its last axis is, read
// column-major, its own transpose (op N); one with unit stride along its
// first axis is the matrix itself (op T). Anything else (or a leading
// dimension cuBLAS refuses) is packed first.
#include <cstdint>

#include "backends/cuda/cuda_kernels.h"
#include "backends/cuda/cuda_libs.h"
#include "cortex/backends/kernels.h"

namespace cortex::backend::cuda {
namespace {

struct Operand {
  Tensor t;  // (B, R, C) as given, or packed contiguous
  cublasOperation_t op;
  std::int64_t ld;
  std::int64_t batch_stride;
};

// Reads a row-major (B, R, C) tensor for the swapped product: op N when C has
// unit stride, op T when R has.
Operand operand(const Tensor& t) {
  const std::int64_t R = t.shape()[1], C = t.shape()[2];
  const std::int64_t sr = t.strides()[1], sc = t.strides()[2];
  const std::int64_t bs = t.shape()[0] == 1 ? 0 : t.strides()[0];
  if ((sc == 1 || C == 1) && (R == 1 || sr >= std::max<std::int64_t>(1, C)))
    return {t, CUBLAS_OP_N, R == 1 ? std::max<std::int64_t>(1, C) : sr, bs};
  if ((sr == 1 || R == 1) && (C == 1 || sc >= std::max<std::int64_t>(1, R)))
    return {t, CUBLAS_OP_T, C == 1 ? std::max<std::int64_t>(1, R) : sc, bs};
  Tensor packed = Tensor::empty(t.shape(), t.dtype(), t.device());
  copy(t, packed);
  return {packed, CUBLAS_OP_N, std::max<std::int64_t>(1, C), t.shape()[0] == 1 ? 0 : R * C};
}

cudaDataType_t cuda_type(DType d) {
  switch (d) {
    case DType::f32: return CUDA_R_32F;
    case DType::f64: return CUDA_R_64F;
    case DType::bf16: return CUDA_R_16BF;
    default: break;
  }
  fail<DTypeError>("matmul on cuda expects f32, f64 or bf16, got ", dtype_name(d));
}


}  // namespace

void matmul(const Tensor& a, const Tensor& b, const Tensor* bias, Tensor& out) {
  if (a.dim() != 3 || b.dim() != 3 || out.dim() != 3)
    fail<ShapeError>("matmul on cuda expects (B, M, K) @ (B, K, N), got ", shape_str(a.shape()), " and ",
                     shape_str(b.shape()));
  const std::int64_t B = out.shape()[0], M = a.shape()[1], K = a.shape()[2], N = b.shape()[2];
  if (b.shape()[1] != K || out.shape() != Shape{B, M, N} || (a.shape()[0] != B && a.shape()[0] != 1) ||
      (b.shape()[0] != B && b.shape()[0] != 1) || !out.is_contiguous())
    fail<ShapeError>("matmul on cuda: a ", shape_str(a.shape()), " and b ", shape_str(b.shape()),
                     " do not give the contiguous out ", shape_str(out.shape()));
  if (b.dtype() != a.dtype() || out.dtype() != a.dtype())
    fail<DTypeError>("matmul on cuda expects one dtype, got a ", dtype_name(a.dtype()), ", b ", dtype_name(b.dtype()),
                     ", out ", dtype_name(out.dtype()));
  if (out.numel() == 0) return;
  DeviceGuard guard(out.device());
  if (K == 0) {
    fill(out, 0.0);
  } else {
    const cudaDataType_t type = cuda_type(a.dtype());
    const Operand A = operand(b);  // cuBLAS's A: our b, (K, N) row-major
    const Operand Bm = operand(a);  // cuBLAS's B: our a, (M, K) row-major
    const bool f64 = a.dtype() == DType::f64;
    const cublasComputeType_t compute = f64 ? CUBLAS_COMPUTE_64F
                                        : (cuda_math().matmul_tf32 && a.dtype() == DType::f32)
                                            ? CUBLAS_COMPUTE_32F_FAST_TF32
                                            : CUBLAS_COMPUTE_32F;
    const double one64 = 1.0, zero64 = 0.0;
    const float one32 = 1.0f, zero32 = 0.0f;
    const void* alpha = f64 ? static_cast<const void*>(&one64) : &one32;
    const void* beta = f64 ? static_cast<const void*>(&zero64) : &zero32;
    for (std::int64_t lim : {M, N, K, A.ld, Bm.ld, B})
      if (lim > 0x7fffffff) fail("matmul on cuda handles sizes up to 2^31, got a ", shape_str(a.shape()), " b ",
                                 shape_str(b.shape()));
    check_cublas(cublasGemmStridedBatchedEx(cublas_handle(out.device()), A.op, Bm.op, static_cast<int>(N),
                                            static_cast<int>(M), static_cast<int>(K), alpha, device_address(A.t), type,
                                            static_cast<int>(A.ld), A.batch_stride, device_address(Bm.t), type,
                                            static_cast<int>(Bm.ld), Bm.batch_stride, beta, device_address(out), type,
                                            static_cast<int>(N), M * N, static_cast<int>(B), compute,
                                            CUBLAS_GEMM_DEFAULT),
                 "cublasGemmStridedBatchedEx");
  }
  if (bias != nullptr) add_bias(out, *bias);
}

}  // namespace cortex::backend::cuda
