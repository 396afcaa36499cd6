#!/usr/bin/env bash
# gpu_bundle.sh: packs the Debian bookworm libraries safetrain builds against (all but LibTorch)
# for a GPU machine that has CUDA and a pip LibTorch but no package archive (docs/GPU.md).
#
#   tools/gpu_bundle.sh            # run on a Debian 12 machine that reaches the archive
#
# Writes (both ignored by git):
#   gpu_bundle/usr/...             the unpacked tree, for checking here (tools/gpu_bundle.sh --verify:
#                                  libraries resolve, and a probe project builds against it alone;
#                                  --verify-libs: the first half only)
#   gpu_carry/bundle.tar.xz        the same tree packed: the one path a device `run` carries
#   gpu_carry/reference/*.py       ../shared/bench (the reference trainer), which does not travel
#   gpu_debs/*.deb                 the downloaded packages, reused by the next run
# On the GPU machine tools/gpu_check.sh unpacks the tarball and sources gpu_bundle/env.sh.
#
# Only `apt-get download` and `dpkg-deb -x`: nothing is installed. The runtime dependency closure
# is followed (first alternative of each "a | b"), minus the base libraries every glibc image with
# a C++ compiler has; -dev packages are taken alone (their own -dev dependencies are not needed to
# link against the shared libraries).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bundle="$repo/gpu_bundle"
carry="$repo/gpu_carry"

# Headers, CMake configs, pkg-config files, link symlinks; taken without their dependencies.
dev_packages=(libyaml-cpp-dev libcli11-dev nlohmann-json3-dev libgtest-dev libigraph-dev
  libplplot-dev libpng-dev zlib1g-dev libgloo-dev libprotobuf-dev)
# Shared libraries and programs the build and the tests load; their closure is followed.
runtime_roots=(libyaml-cpp0.7 libigraph3 libplplot17 plplot-driver-cairo libpng16-16 ninja-build
  pkgconf-bin fonts-dejavu-core libprotobuf-lite32 libprotobuf32 protobuf-compiler)
# Present on any glibc-based image (the GPU machine's included): never bundled, so the bundle
# cannot shadow the system's C library, C++ runtime or loader-level libraries.
base_packages=(libc6 libgcc-s1 libstdc++6 gcc-12-base libcrypt1 zlib1g liblzma5 libzstd1 libbz2-1.0
  libselinux1 libpcre2-8-0 libmount1 libblkid1 libuuid1 libffi8 libacl1 libmd0 libtinfo6 libreadline8
  readline-common debconf cdebconf dpkg tar sysvinit-utils lsb-base install-info perl-base
  libdebian-installer4 libnewt0.52 libslang2 libtextwrap1
  # fonts: fonts-dejavu-core alone is enough for the PNG plots' labels
  fonts-liberation fonts-liberation2 fonts-croscore fonts-freefont-ttf fonts-freefont-otf fonts-texgyre
  fonts-urw-base35 ttf-bitstream-vera xfonts-utils xfonts-encodings libfontenc1 x11-common)

# Prints the packages to download: every dev package, then the runtime closure minus the base.
resolve_packages() {
  python3 - "${#dev_packages[@]}" "${dev_packages[@]}" "${base_packages[@]}" -- "${runtime_roots[@]}" <<'PY'
import subprocess, sys
count = int(sys.argv[1]); dev = sys.argv[2:2 + count]
rest = sys.argv[2 + count:]; split = rest.index("--")
base, roots = set(rest[:split]), rest[split + 1:]

def depends(package):
    """Depends/Pre-Depends of a package: the first alternative of each "a | b" group; a virtual
    package (<name>, its providers listed below it, indented deeper) resolves to its first provider."""
    out = subprocess.run(["apt-cache", "depends", "--no-recommends", "--no-suggests", "--no-conflicts",
                          "--no-breaks", "--no-replaces", "--no-enhances", package],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    chosen, in_group, virtual_pending = [], False, False
    for line in out[1:]:
        if line.startswith("    "):  # a provider of the virtual package above
            if virtual_pending:
                chosen.append(line.strip()); virtual_pending = False
            continue
        virtual_pending = False
        kind, _, name = line.strip().partition(":")
        alternative = kind.startswith("|")
        if kind.lstrip("|") not in ("Depends", "PreDepends"):
            in_group = False
            continue
        name = name.strip()
        if not in_group:
            if name.startswith("<"):
                virtual_pending = True
            else:
                chosen.append(name.split(":")[0])
        in_group = alternative  # the next line is another alternative of this same group
    return chosen

seen, queue = set(), list(roots)
while queue:
    package = queue.pop()
    if package in seen or package in base:
        continue
    seen.add(package)
    queue.extend(depends(package))
print("\n".join(dev + sorted(seen - set(dev))))
PY
}

# Relative symlink targets, so the tree works wherever it is unpacked.
relativize_links() {
  find "$bundle" -type l | while read -r link; do
    local target
    target=$(readlink "$link")
    [[ "$target" == /* ]] || continue
    ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$bundle$target")" "$link"
  done
}

# Everything the build and the tests do not read: docs, man pages, static libraries (but
# GoogleTest's, which Debian ships only static), locales, the X11 locale data, PLplot's Tcl/Fortran/
# examples, most of PLplot's drivers.
prune() {
  local usr="$bundle/usr"
  rm -rf "$usr"/share/{doc,man,info,lintian,locale,bug,bash-completion,doc-base,X11,zsh,vim,emacs,gdb} \
    "${bundle:?}"/etc/X11 "${bundle:?}"/var
  find "$usr" -name '*.a' ! -name 'libgtest*.a' ! -name 'libgmock*.a' -delete
  local plplot_share
  plplot_share=$(find "$usr/share" -maxdepth 1 -name 'plplot5*' | head -1)
  if [ -n "$plplot_share" ]; then
    find "$plplot_share" -mindepth 1 -maxdepth 1 ! -name '*.fnt' ! -name '*.map' ! -name '*.pal' \
      ! -name '*.shx' ! -name '*.shp' ! -name '*.dbf' -exec rm -rf {} +
  fi
  find "$usr/lib" -path '*plplot5*/drivers/*' ! -name 'cairo.*' -delete
  find "$usr/share/fonts" -type f ! -name 'DejaVuSans.ttf' ! -name 'DejaVuSans-Bold.ttf' \
    ! -name 'DejaVuSansMono.ttf' -delete 2>/dev/null || true
}

# Shared libraries no root library needs (directly or through others): dropped, with the symlinks
# left dangling. Roots: what safetrain links (protoc's libraries too), and PLplot's cairo driver, which it
# loads at run time.
drop_unreachable_libraries() {
  python3 - "$bundle/usr/lib/x86_64-linux-gnu" <<'PY'
import os, re, subprocess, sys
lib = sys.argv[1]
files = {}
for directory, _, names in os.walk(lib):
    for name in names:
        path = os.path.join(directory, name)
        if ".so" in name and os.path.isfile(path):
            files.setdefault(name, path)  # soname -> path (symlinks resolve through isfile)
roots = [p for n, p in files.items() if re.match(r"(libyaml-cpp|libigraph|libplplot|libpng16|libprotobuf-lite|libprotobuf|libprotoc)\.so(\.\d+)+$", n)]
roots += [os.path.join(d, n) for d, _, ns in os.walk(lib) if d.endswith("drivers") for n in ns if n == "cairo.so"]
keep, queue = set(), list(roots)
while queue:
    path = os.path.realpath(queue.pop())
    if path in keep:
        continue
    keep.add(path)
    dynamic = subprocess.run(["readelf", "-d", path], capture_output=True, text=True).stdout
    for needed in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic):
        if needed in files:
            queue.append(files[needed])
for directory, _, names in os.walk(lib):
    for name in names:
        path = os.path.join(directory, name)
        if ".so" in name and not os.path.islink(path) and os.path.realpath(path) not in keep:
            os.remove(path)
for directory, _, names in os.walk(lib):
    for name in names:
        path = os.path.join(directory, name)
        if os.path.islink(path) and not os.path.exists(path):
            os.remove(path)
PY
}

# pkg-config files relocated through ${pcfiledir}; igraph's private libxml-2.0 requirement dropped
# (we link the shared library, and shipping libxml2-dev would only serve that check); the BLAS and
# LAPACK alternatives symlinks that dpkg's postinst would have made.
fix_up() {
  local lib="$bundle/usr/lib/x86_64-linux-gnu"
  for pc in "$lib"/pkgconfig/*.pc "$bundle"/usr/share/pkgconfig/*.pc; do
    [ -f "$pc" ] || continue
    local up='${pcfiledir}/../../..'
    [[ "$pc" == */usr/share/pkgconfig/* ]] && up='${pcfiledir}/../..'
    sed -i -E -e "s|^([a-z_]*prefix)=/usr\$|\1=$up|" \
      -e "s|/usr/lib/x86_64-linux-gnu|$up/lib/x86_64-linux-gnu|g" \
      -e "s|\"/usr/include|\"$up/include|g; s|=/usr/include|=$up/include|g" "$pc"
    sed -i -e 's|-L"[^"]*gcc/x86_64-linux-gnu/[0-9]*"||g' "$pc"
  done
  sed -i 's/^Requires.private:.*libxml-2.0.*$/Requires.private:/' "$lib/pkgconfig/igraph.pc"
  [ -e "$bundle/usr/bin/pkgconf" ] && ln -sfn pkgconf "$bundle/usr/bin/pkg-config"
  for name in blas lapack; do
    [ -e "$lib/$name/lib$name.so.3" ] && ln -sfn "$name/lib$name.so.3" "$lib/lib$name.so.3"
  done
}

write_env() {
  local drivers fonts_conf plplot_share
  drivers=$(cd "$bundle" && find usr/lib -type d -path '*plplot5*/drivers' | head -1)
  plplot_share=$(cd "$bundle" && find usr/share -maxdepth 1 -name 'plplot5*' | head -1)
  fonts_conf=$(cd "$bundle" && ls etc/fonts/fonts.conf 2>/dev/null || true)
  cat >"$bundle/env.sh" <<EOF
# Sourced by tools/gpu_check.sh: where the bundle's libraries, pkg-config files and data are.
# LD_LIBRARY_PATH is set by gpu_check.sh for safetrain's own binaries only (as SAFETRAIN_BUNDLE_LIBS),
# so the system's Python keeps its own libraries.
SAFETRAIN_BUNDLE=\$(cd "\$(dirname "\${BASH_SOURCE[0]}")" && pwd)
export SAFETRAIN_BUNDLE
export SAFETRAIN_BUNDLE_LIBS="\$SAFETRAIN_BUNDLE/usr/lib/x86_64-linux-gnu"
export PKG_CONFIG_PATH="\$SAFETRAIN_BUNDLE/usr/lib/x86_64-linux-gnu/pkgconfig:\$SAFETRAIN_BUNDLE/usr/share/pkgconfig\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}"
export PATH="\$PATH:\$SAFETRAIN_BUNDLE/usr/bin"
export PLPLOT_DRV_DIR="\$SAFETRAIN_BUNDLE/$drivers"
export PLPLOT_LIB="\$SAFETRAIN_BUNDLE/$plplot_share"
${fonts_conf:+export FONTCONFIG_FILE="\$SAFETRAIN_BUNDLE/$fonts_conf"}
EOF
  cat >"$bundle/bundle.cmake" <<'EOF'
# cmake -C gpu_bundle/bundle.cmake ...: finds the bundle's packages (find_package and pkg-config)
# ahead of the system's. CMAKE_PREFIX_PATH for LibTorch is given on the command line as usual.
get_filename_component(_bundle "${CMAKE_CURRENT_LIST_DIR}/usr" ABSOLUTE)
set(SAFETRAIN_BUNDLE_PREFIX "${_bundle}" CACHE PATH "unpacked Debian bundle (tools/gpu_bundle.sh)")
set(ENV{PKG_CONFIG_PATH} "${_bundle}/lib/x86_64-linux-gnu/pkgconfig:${_bundle}/share/pkgconfig:$ENV{PKG_CONFIG_PATH}")
set(CMAKE_LIBRARY_ARCHITECTURE x86_64-linux-gnu CACHE STRING "")
# The programs find the bundle's libraries, and those their own dependencies, without
# LD_LIBRARY_PATH: an RPATH (not RUNPATH, which is not searched for indirect dependencies).
set(_link "-Wl,--disable-new-dtags -Wl,-rpath,${_bundle}/lib/x86_64-linux-gnu -Wl,-rpath-link,${_bundle}/lib/x86_64-linux-gnu")
set(CMAKE_EXE_LINKER_FLAGS "${_link}" CACHE STRING "")
set(CMAKE_SHARED_LINKER_FLAGS "${_link}" CACHE STRING "")
EOF
}

verify() {
  # Every bundled shared library resolves with the bundle (plus the base the machine has).
  local missing=0
  while read -r so; do
    if LD_LIBRARY_PATH="$bundle/usr/lib/x86_64-linux-gnu" ldd "$so" 2>&1 | grep -q 'not found'; then
      echo "gpu_bundle: unresolved in $so:"; LD_LIBRARY_PATH="$bundle/usr/lib/x86_64-linux-gnu" ldd "$so" | grep 'not found'
      missing=1
    fi
  done < <(find "$bundle/usr/lib" -name '*.so*' -type f)
  [ $missing -eq 0 ] && echo "gpu_bundle: every bundled library resolves"
  return $missing
}

# A throw-away CMake project that finds every bundled package with the system's prefixes switched
# off (so a hit can only come from the bundle), links them, and draws one PNG through PLplot's
# cairo driver: the configure and run-time paths of the real build, without LibTorch.
probe_cmake() {
  local probe
  probe=$(mktemp -d)
  cat >"$probe/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(bundle_probe CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(GTest REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(IGRAPH REQUIRED IMPORTED_TARGET igraph)
pkg_check_modules(PLPLOT REQUIRED IMPORTED_TARGET plplot)
pkg_check_modules(LIBPNG REQUIRED IMPORTED_TARGET libpng)
foreach(found yaml-cpp_DIR CLI11_DIR nlohmann_json_DIR GTest_DIR IGRAPH_LINK_LIBRARIES PLPLOT_LINK_LIBRARIES
        LIBPNG_LINK_LIBRARIES)
  message(STATUS "probe: ${found} = ${${found}}")
  string(FIND "${${found}}" "${SAFETRAIN_BUNDLE_PREFIX}" at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR "probe: ${found} is not from the bundle (${SAFETRAIN_BUNDLE_PREFIX})")
  endif()
endforeach()
add_executable(probe probe.cpp)
target_link_libraries(probe yaml-cpp CLI11::CLI11 nlohmann_json::nlohmann_json GTest::gtest
  PkgConfig::IGRAPH PkgConfig::PLPLOT PkgConfig::LIBPNG)
CMAKE
  cat >"$probe/probe.cpp" <<'CPP'
#include <CLI/CLI.hpp>
#include <cstdio>
#include <gtest/gtest.h>
#include <igraph.h>
#include <nlohmann/json.hpp>
#include <plplot.h>
#include <png.h>
#include <yaml-cpp/yaml.h>
int main(int argc, char** argv) {
  igraph_t graph;
  igraph_ring(&graph, 5, IGRAPH_UNDIRECTED, 0, 1);
  const auto edges = igraph_ecount(&graph);
  igraph_destroy(&graph);
  plsdev("pngcairo");
  plsfnam(argv[1]);
  plinit();
  plenv(0, 1, 0, 1, 0, 0);
  pllab("x", "y", "bundle probe");
  plend();
  std::printf("probe: yaml %d, json %s, igraph edges %d, png %s\n", YAML::Load("a: 3")["a"].as<int>(),
              nlohmann::json{{"k", 1}}.dump().c_str(), static_cast<int>(edges), png_get_libpng_ver(nullptr));
  return argc > 2 ? RUN_ALL_TESTS() : 0;
}
CPP
  local libdirs="$bundle/usr/lib/x86_64-linux-gnu/pkgconfig:$bundle/usr/share/pkgconfig" status=0
  (
    # shellcheck disable=SC1091
    source "$bundle/env.sh"
    export PKG_CONFIG_LIBDIR=$libdirs PKG_CONFIG_PATH=
    # The compiler and tools are the machine's; the bundle's pkg-config is used if it has none.
    cmake -S "$probe" -B "$probe/build" -G Ninja -C "$bundle/bundle.cmake" -DCMAKE_PREFIX_PATH="$bundle/usr" \
      -DCMAKE_CXX_COMPILER="$(command -v c++)" -DCMAKE_MAKE_PROGRAM="$(command -v ninja)" \
      -DPKG_CONFIG_EXECUTABLE="$(command -v pkg-config)" \
      -DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF -DCMAKE_FIND_USE_SYSTEM_ENVIRONMENT_PATH=OFF >"$probe/configure.log" &&
      cmake --build "$probe/build" >"$probe/build.log" &&
      "$probe/build/probe" "$probe/probe.png" &&
      ldd "$probe/build/probe" | grep -E 'libigraph|libplplot|libyaml|libxml2|libcairo' | tee "$probe/ldd.log" &&
      ! grep -v "$bundle" "$probe/ldd.log" &&
      grep 'probe:' "$probe/configure.log" &&
      [ -s "$probe/probe.png" ] && echo "gpu_bundle: probe drew $(stat -c %s "$probe/probe.png") bytes of PNG"
  ) || status=$?
  [ $status -eq 0 ] || { echo "gpu_bundle: the probe failed:"; tail -n 30 "$probe"/*.log; }
  rm -rf "$probe"
  return $status
}

main() {
  if [ "${1:-}" = "--verify" ]; then verify && probe_cmake; return; fi
  if [ "${1:-}" = "--verify-libs" ]; then verify; return; fi
  if [ "${1:-}" = "--list" ]; then resolve_packages; return; fi
  command -v apt-get >/dev/null || { echo "gpu_bundle: needs a Debian 12 machine with apt-get" >&2; exit 1; }
  local packages
  mapfile -t packages < <(resolve_packages)
  # The .deb files are kept in gpu_debs/ (ignored): a second run downloads only what changed.
  local debs="$repo/gpu_debs" missing=() package
  mkdir -p "$debs"
  chmod 755 "$debs"  # apt-get download hands the files to the _apt user
  for package in "${packages[@]}"; do
    compgen -G "$debs/${package}_*.deb" >/dev/null || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] || (cd "$debs" && apt-get download -qq -o APT::Sandbox::User=root "${missing[@]}")
  rm -rf "$bundle" "$carry"
  mkdir -p "$bundle" "$carry/reference"
  for package in "${packages[@]}"; do
    dpkg-deb -x "$(compgen -G "$debs/${package}_*.deb" | sort -V | tail -1)" "$bundle"
  done
  printf '%s\n' "${packages[@]}" >"$bundle/PACKAGES"
  prune
  relativize_links
  fix_up
  drop_unreachable_libraries
  write_env
  local shared
  for shared in "${SAFETRAIN_SHARED:-}" "$repo/shared" "$repo/../shared" "$repo/../../shared"; do
    [ -n "$shared" ] && [ -f "$shared/bench/torch_reference.py" ] && break
  done
  if [ -f "$shared/bench/torch_reference.py" ]; then
    cp "$shared"/bench/*.py "$carry/reference/"
  else
    echo "gpu_bundle: shared/bench/torch_reference.py not found (set SAFETRAIN_SHARED): the benchmark will lack it" >&2
  fi
  tar -C "$repo" -cJf "$carry/bundle.tar.xz" gpu_bundle
  echo "gpu_bundle: ${#packages[@]} packages; unpacked $(du -sh "$bundle" | cut -f1)," \
    "carried $(du -sh "$carry" | cut -f1) ($carry)"
  verify && probe_cmake
}

main "$@"
