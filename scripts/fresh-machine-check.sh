#!/usr/bin/env bash
# Runs the README's two commands on a freshly made Debian 12: builds a minimal
# root with mmdebstrap from this machine's own Debian apt sources, installs
# only make and git in it, copies a clean clone of HEAD there, and runs, under
# chroot, `CORTEX_DEMO_EPOCHS=1 make demo`, `make test`, and make bench's two
# scripts cut short. Then `make package`, and the .deb installed with apt-get
# in a second, untouched copy of the root: the cortex command runs there and
# examples/standalone builds against find_package(Cortex). Prints each exit
# status, the ctest summary and the wall times. About 30 minutes on 2 cores;
# needs root. Not part of `make test`: run it whenever scripts/install-deps.sh
# or a find_package changes.
#
#   sudo bash scripts/fresh-machine-check.sh [--keep] [--dir /var/tmp/cortex-fresh]
set -uo pipefail
# The whole script is one block, read before it runs: editing the file meanwhile cannot derail a run.
{
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
work=/var/tmp/cortex-fresh
keep=0
while (($#)); do
  case $1 in
    --keep) keep=1; shift ;;
    --dir) work=$(realpath -m "${2:?--dir needs a value}"); shift 2 ;;
    *) echo "fresh-machine-check: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
((EUID == 0)) || { echo "fresh-machine-check: run as root (it uses mmdebstrap, mount and chroot)" >&2; exit 1; }
# The folder is emptied before and after: only one this script made (its marker inside) or a new one.
marker=.cortex-fresh-machine-check
if [[ -e $work && ! -e $work/$marker ]] && [[ -n $(ls -A "$work" 2>/dev/null) || ! -d $work ]]; then
  echo "fresh-machine-check: $work exists and was not made by this script; give an empty or new --dir" >&2
  exit 1
fi
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

mounted=()
unmount_all() {
  local m
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -R "${mounted[i]}" 2>/dev/null || umount -lR "${mounted[i]}"; done
  mounted=()
}
cleanup() {
  unmount_all
  ((keep)) || [[ ! -e $work/$marker ]] || rm -rf --one-file-system "$work"
}

# mount_root ROOT: what a chroot needs to run apt, compilers, tests and a headless browser.
mount_root() {
  local root=$1
  mount -t proc proc "$root/proc" && mounted+=("$root/proc")
  mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys" && mounted+=("$root/sys")
  mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev" && mounted+=("$root/dev")
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
}

# in_root ROOT COMMAND: COMMAND under bash in ROOT, with a clean environment.
in_root() {
  chroot "$1" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive bash -c "$2"
}

if ! command -v mmdebstrap >/dev/null; then
  log "installing mmdebstrap"
  apt-get update -qq && apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null ||
    { echo "fresh-machine-check: cannot install mmdebstrap" >&2; exit 1; }
fi

# This machine's Debian sources (deb822 stanzas and one-line entries on a debian.org mirror), nothing else.
sources=$(
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] && awk 'BEGIN { RS = ""; ORS = "\n\n" } /URIs:[^\n]*debian\.org/' "$f"
  done
  [[ -f /etc/apt/sources.list ]] && grep -E '^deb .*debian\.org' /etc/apt/sources.list
)
[[ -n $sources ]] || { echo "fresh-machine-check: no Debian entries in this machine's apt sources" >&2; exit 1; }

start=$(date +%s)
# A run that was killed may have left its mounts behind.
findmnt -rn -o TARGET | grep "^$work/" | sort -r | xargs -r -n1 umount -l 2>/dev/null
[[ -e $work/$marker ]] && rm -rf --one-file-system "$work"
mkdir -p "$work" && touch "$work/$marker"
trap cleanup EXIT
base=$work/base
log "making a minimal Debian 12 root in $base"
mmdebstrap --variant=minbase --quiet bookworm "$base" - <<<"$sources" >"$work/mmdebstrap.log" 2>&1 ||
  { echo "fresh-machine-check: mmdebstrap failed: $(tail -20 "$work/mmdebstrap.log")" >&2; exit 1; }
cp -a "$base" "$work/deb-root"  # kept untouched for the .deb check
root=$work/root
mv "$base" "$root"
log "root made in $(($(date +%s) - start)) s"

mount_root "$root"
log "installing make and git, nothing else"
in_root "$root" 'apt-get update -qq && apt-get install -y -qq --no-install-recommends make git' >"$work/base-packages.log" 2>&1 ||
  { echo "fresh-machine-check: installing make and git failed: $(tail -20 "$work/base-packages.log")" >&2; exit 1; }
git clone -q --no-hardlinks "$repo" "$root/root/cortex" && git -C "$root/root/cortex" checkout -q "$(git rev-parse HEAD)" ||
  { echo "fresh-machine-check: cannot clone $repo into the root" >&2; exit 1; }
log "cloned $(git rev-parse --short HEAD) into the root"

t0=$(date +%s)
in_root "$root" 'cd /root/cortex && CORTEX_DEMO_EPOCHS=1 make demo' >"$work/demo.log" 2>&1
demo_rc=$?
demo_s=$(($(date +%s) - t0))
log "make demo (1 epoch): exit $demo_rc in ${demo_s} s"
t0=$(date +%s)
in_root "$root" 'cd /root/cortex && make test' >"$work/test.log" 2>&1
test_rc=$?
test_s=$(($(date +%s) - t0))
log "make test: exit $test_rc in ${test_s} s"
# make bench's two scripts, cut short: they must find PyTorch and every tool they use.
t0=$(date +%s)
in_root "$root" 'cd /root/cortex && bash bench/run.sh --rounds 1 && bash bench/cpu_train.sh --steps 3 --rounds 1 --breakdown 2' \
  >"$work/bench.log" 2>&1
bench_rc=$?
log "make bench's scripts, short: exit $bench_rc in $(($(date +%s) - t0)) s"
t0=$(date +%s)
in_root "$root" 'cd /root/cortex && make package' >"$work/package.log" 2>&1
package_rc=$?
log "make package: exit $package_rc in $(($(date +%s) - t0)) s"
deb=$(ls "$root"/root/cortex/build/cpu/cortex_*.deb 2>/dev/null | head -1)
unmount_all

deb_rc=1
if [[ $package_rc -eq 0 && -n $deb ]]; then
  t0=$(date +%s)
  droot=$work/deb-root
  mount_root "$droot"
  cp "$deb" "$droot/tmp/"
  cp -r "$repo/examples/standalone" "$droot/tmp/standalone"
  # A user with the package and a compiler: apt brings what the .deb depends on.
  in_root "$droot" "apt-get update -qq && apt-get install -y -qq --no-install-recommends /tmp/$(basename "$deb") cmake g++ make &&
    command -v cortex && cortex --help >/dev/null && cortex summary --model lecture-cnn | grep 'Total params: 1,199,882' &&
    cmake -S /tmp/standalone -B /tmp/app -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/app && /tmp/app/circle" \
    >"$work/deb.log" 2>&1
  deb_rc=$?
  unmount_all
  log ".deb in a fresh root: exit $deb_rc in $(($(date +%s) - t0)) s"
fi

echo
echo "fresh-machine-check at $(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
echo "  make demo (CORTEX_DEMO_EPOCHS=1): exit $demo_rc, ${demo_s} s; $(grep -E '^Test accuracy' "$work/demo.log" || echo 'no accuracy line')"
echo "  make test: exit $test_rc, ${test_s} s; $(grep -E 'tests passed|tests failed' "$work/test.log" || echo 'no ctest summary')"
echo "  make bench's scripts (bench/run.sh --rounds 1, bench/cpu_train.sh --steps 3 --rounds 1): exit $bench_rc"
echo "  make package: exit $package_rc; $(basename "${deb:-none}")"
echo "  .deb installed in a fresh root (cortex runs, find_package(Cortex) builds and runs examples/standalone): exit $deb_rc"
[[ $deb_rc -eq 0 ]] && echo "    $(grep -E '^Test accuracy' "$work/deb.log")"
echo "  wall time: $(($(date +%s) - start)) s; logs in $work (kept with --keep)"
for f in demo test bench package deb; do
  rc_var=${f}_rc
  [[ ${!rc_var} -eq 0 || ! -f $work/$f.log ]] || { echo "--- the end of $f.log:"; tail -30 "$work/$f.log"; }
done
((demo_rc == 0 && test_rc == 0 && bench_rc == 0 && package_rc == 0 && deb_rc == 0))
exit
}
