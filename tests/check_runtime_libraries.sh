#!/bin/sh
# Checks that every given program finds each shared library it needs (ldd: no "not found"; the pip
# LibTorch's CUDA libraries resolve through its RUNPATH, the rest from the system), and with
# --cuda that each loads LibTorch's CUDA half (libtorch_cuda, libc10_cuda): the CUDA paths are linked.
#   check_runtime_libraries.sh [--cuda] PROGRAM...
set -u
cuda=0
failures=0
for arg in "$@"; do
  if [ "$arg" = --cuda ]; then cuda=1; continue; fi
  listing=$(ldd "$arg" 2>&1) || { echo "FAIL $arg: ldd failed: $listing"; failures=$((failures + 1)); continue; }
  missing=$(echo "$listing" | grep 'not found' | awk '{print $1}' | tr '\n' ' ')
  if [ -n "$missing" ]; then
    echo "FAIL $arg: not found: $missing"
    failures=$((failures + 1))
  elif [ "$cuda" = 1 ] && ! { echo "$listing" | grep -q 'libtorch_cuda\.so' && echo "$listing" | grep -q 'libc10_cuda\.so'; }; then
    echo "FAIL $arg: a CUDA build, but libtorch_cuda / libc10_cuda are not loaded"
    failures=$((failures + 1))
  else
    echo "ok   $arg ($(echo "$listing" | wc -l) libraries)"
  fi
done
exit $failures
