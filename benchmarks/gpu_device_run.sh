#!/usr/bin/env bash
# One prepared run on a GPU machine: install the carried wheels, run the GPU tests and
# benchmarks/gpu.py, keep the logs in $OUT. Run from the repository root with the
# wheels in .whl/ (py3.12 manylinux x86_64: brian2 2.10.1, brian2cuda 1.0b1, numpy 2.3,
# h5py, pyparsing, and make's .deb; the GPU image provides nvcc, nvidia-curand, sympy,
# jinja2, cython, pytest) and, optionally, the CUDA projects compiled ahead by
# benchmarks/gpu_prebuild.py in .gpu_prebuilt/ (then no nvcc runs here: the GPU only runs).
#   bash benchmarks/gpu_device_run.sh [SECONDS [BENCHMARK ARGS...]]   # default 575 s, all cases
#   TESTS=0 bash benchmarks/gpu_device_run.sh 570 --cases ca3-10000 --timeout 520
#   BENCH=0 bash benchmarks/gpu_device_run.sh 570                     # the three GPU tests only
#   TESTS=0 bash benchmarks/gpu_device_run.sh 570 --cases ca3-10000 --sides gpu   # then, same machine:
#   TESTS=0 bash benchmarks/gpu_device_run.sh 300 --cases ca3-10000 --sides cpp   # ratio with the GPU row
# Measured on an H200 box (16 cores): with .gpu_prebuilt/ the three GPU tests took 29 s and the
# benchmark's three cases, both sides, about 3 min (ca3-10000 77 s), so the default command fits
# one 10-minute call. Without it each CA3 CUDA project takes ~2-2.5 min of nvcc at -j16, and one
# command fits the GPU tests or one or two benchmark cases, not all.
set -u
OUT=${OUT:-/tmp/spikemem_gpu_out}
mkdir -p "$OUT"
BUDGET=${1:-575}
shift || true
TESTS=${TESTS:-1}
BENCH=${BENCH:-1}
TEST_S=${TEST_S:-300}  # at most this long for the GPU tests
START=$(date +%s)
left() { echo $((BUDGET - ($(date +%s) - START))); }
note() { echo "== [$(($(date +%s) - START)) s] $*" | tee -a "$OUT/summary.txt"; }
export PYTHONUNBUFFERED=1 SPIKEMEM_CACHE=/tmp/spikemem_cache

note "install"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  >"$OUT/env.txt" 2>&1 || { note "wheel install failed"; exit 1; }
rm -rf /tmp/sm && mkdir -p /tmp/sm && cp -r spikemem /tmp/sm/ || exit 1
for d in models hardware experiments; do [ -d "$d" ] && cp -r "$d" "/tmp/sm/spikemem/$d"; done
export PYTHONPATH=/tmp/sm:/tmp/site
# projects compiled ahead (benchmarks/gpu_prebuild.py --pack): unpacked into the cache
if [ -f .gpu_prebuilt/cuda_standalone.tar.xz ]; then
  mkdir -p "$SPIKEMEM_CACHE" && tar -xJf .gpu_prebuilt/cuda_standalone.tar.xz -C "$SPIKEMEM_CACHE" || exit 1
  note "compiled projects: $(ls "$SPIKEMEM_CACHE/cuda_standalone" | tr '\n' ' ')"
fi
if ! command -v make >/dev/null; then  # brian2 and brian2cuda build with make
  dpkg -x .whl/make_*.deb /tmp/mk && export PATH=/tmp/mk/usr/bin:$PATH
fi
{
  nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv
  nvcc --version | tail -2
  echo "cpus $(nproc)"; free -g | head -2; command -v make g++ nvcc
  python3 -P -c "import sys, numpy, sympy, h5py, brian2, brian2cuda, spikemem
from spikemem.hardware import cuda
print(sys.version.split()[0], 'numpy', numpy.__version__, 'sympy', sympy.__version__, 'brian2', brian2.__version__,
      'brian2cuda', brian2cuda.__version__, 'spikemem at', spikemem.__file__)
print('gpus', cuda.gpus(), 'nvcc', cuda.nvcc_path(), 'curand', cuda.curand_dirs())"
} >>"$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

if [ "$TESTS" = 1 ]; then
  note "GPU tests: exp. 1 fidelity, functional random stream, batch; vs CPU answers and C++ standalone spikes"
  limit=$(($(left) - 60)); [ "$limit" -gt "$TEST_S" ] && limit=$TEST_S
  timeout $limit python3 -P -m pytest -p no:cacheprovider -q -rA -s --durations=0 -m gpu tests/targets/test_cuda.py \
    >"$OUT/test_gpu.log" 2>&1
  note "pytest exit $? ($(tail -1 "$OUT/test_gpu.log"))"
fi

if [ "$BENCH" = 1 ]; then
  note "benchmark"
  # rows of earlier commands on this (still warm) machine count too: a case's two sides may take a command each
  ROWS=/tmp/spikemem_gpu_rows.json
  prev=(); [ -f "$ROWS" ] && prev=(--previous "$ROWS")
  timeout $(($(left) - 20)) python3 benchmarks/gpu.py --budget $(($(left) - 30)) --json "$ROWS" "${prev[@]}" "$@" 2>&1 |
    tee "$OUT/bench.log"
  [ -f "$ROWS" ] && cp "$ROWS" "$OUT/gpu_bench.json"
  note "benchmark done"
fi

# the GPU programs' own output (brian2cuda reports each synaptic pathway it has set up)
for log in "$SPIKEMEM_CACHE"/cuda_standalone/*/main.log; do
  [ -f "$log" ] && { echo "== $log"; tail -4 "$log"; } >>"$OUT/main_logs.txt"
done
cat "$OUT/summary.txt"
