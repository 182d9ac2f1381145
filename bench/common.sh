# Shared by the bench scripts (sourced): the baseline's interpreter and the
# checks and settings every side-by-side run makes before it starts.

python=/usr/bin/python3  # Debian's python3-torch lives here, not in a venv

# bench_preflight NAME BINARY...: PyTorch imports and every BINARY is built;
# otherwise a message that names the fix, and exit 1.
bench_preflight() {
  local name=$1 bin
  shift
  if ! "$python" -c 'import torch' 2>/dev/null; then
    echo "$name: $python cannot import torch; install Debian's python3-torch (scripts/install-deps.sh)" >&2
    exit 1
  fi
  for bin in "$@"; do
    if [[ ! -x $bin ]]; then
      echo "$name: $bin not found; build it first (make build)" >&2
      exit 1
    fi
  done
}

# same_threads N: both sides get N threads, whichever runtime reads which
# variable, and PyTorch's BLAS is OpenBLAS's OpenMP build (Debian's default
# reference BLAS would make its dense layers several times slower).
same_threads() {
  export OMP_NUM_THREADS=$1 OPENBLAS_NUM_THREADS=$1 MKL_NUM_THREADS=$1
  export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
}
