#!/bin/sh
# Checks that tools link no plotting (PLplot) or graph (igraph) library.
#   check_tool_links.sh --forbid TOOL... --require TOOL...
# For each TOOL (an executable path), TOOL.map (its linker map, written by
# -Wl,-Map in tools/CMakeLists.txt) lists every input the linker was given:
# a library on the link line shows there even when --as-needed leaves it out
# of the binary, so the map catches a tool that links the trainer. ldd shows
# what the binary loads at run time. --require tools must show the libraries
# in their map: proof the pattern matches the names on this system.
set -u
pattern='plplot|igraph'
mode=forbid
failures=0
for arg in "$@"; do
  case "$arg" in
    --forbid) mode=forbid; continue ;;
    --require) mode=require; continue ;;
  esac
  map="$arg.map"
  if [ ! -x "$arg" ] || [ ! -f "$map" ]; then
    echo "FAIL $arg: executable or its linker map $map is missing (build the tool first)"
    failures=$((failures + 1))
    continue
  fi
  linked=$(grep -oE "[^ (]*lib($pattern)[^ )]*\.so[^ )]*" "$map" | sort -u | tr '\n' ' ')
  loaded=$(ldd "$arg" | grep -E "$pattern" | awk '{print $1}' | tr '\n' ' ')
  if [ "$mode" = forbid ] && [ -n "$linked$loaded" ]; then
    echo "FAIL $arg links ${linked}loads ${loaded}(it should not link safetrain_train, safetrain_eval or safetrain_descriptors)"
    failures=$((failures + 1))
  elif [ "$mode" = require ] && [ -z "$linked" ]; then
    echo "FAIL $arg: expected PLplot and igraph in $map; the check's pattern no longer matches this system"
    failures=$((failures + 1))
  else
    echo "ok   $arg ($mode: ${linked:-none})"
  fi
done
exit $failures
