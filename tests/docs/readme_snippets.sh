#!/usr/bin/env bash
# Every ```cpp block of README.md compiles as shown: its #include and using
# lines at the top, the rest as the body of main() (unless it has its own).
#   readme_snippets.sh SOURCE_DIR [CXX]
set -uo pipefail
src=${1:?usage: readme_snippets.sh SOURCE_DIR [CXX]}
cxx=${2:-c++}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 - "$src/README.md" "$dir" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"^```cpp\n(.*?)^```", text, re.S | re.M)
for i, block in enumerate(blocks):
    lines = block.splitlines()
    head = [l for l in lines if l.startswith("#include") or l.startswith("using namespace")]
    body = [l for l in lines if l not in head]
    code = "\n".join(head) + "\n" + ("\n".join(body) if "main(" in block else "int main() {\n" + "\n".join(body) + "\n}") + "\n"
    open(f"{sys.argv[2]}/snippet_{i}.cpp", "w").write(code)
print(len(blocks))
PY
n=$(ls "$dir"/snippet_*.cpp 2>/dev/null | wc -l)
((n >= 2)) || { echo "FAIL: found $n C++ blocks in README.md" >&2; exit 1; }
for f in "$dir"/snippet_*.cpp; do
  "$cxx" -std=c++20 -fsyntax-only -I"$src/include" "$f" 2>"$dir/err" ||
    { echo "FAIL: README.md's C++ block $(basename "$f" .cpp) does not compile:" >&2; cat "$f" "$dir/err" >&2; exit 1; }
done
echo "readme snippets: $n C++ blocks compile"
