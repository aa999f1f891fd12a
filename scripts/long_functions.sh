#!/usr/bin/env bash
# Lists every function longer than a limit (default 80 lines, the style's
# "functions under ~80 lines") in the C++ sources outside tests/, longest
# first: "<lines>  <file>:<line>  <name>". Exit status 1 when any is listed,
# so CI can hold the line.
#
#   scripts/long_functions.sh [LIMIT] [DIR...]     (default: 80, accel bench fuzz models sim traces)
#
# A brace counter, not a parser: comments, string, character and raw-string
# literals are blanked first; a "{" opens a function when the text before it
# (back to the last ";", "{" or "}") has a parameter list and is not a
# control statement, a namespace, a class or an initializer. A function's
# length runs from the first line of its signature to its closing brace;
# lambdas and local classes count as part of the function they are in.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
limit=${1:-80}
shift || true
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(accel bench fuzz models sim traces)
cd "$root"
existing=()
for d in "${dirs[@]}"; do [ -d "$d" ] && existing+=("$d"); done
[ ${#existing[@]} -gt 0 ] || { echo "long_functions: none of ${dirs[*]} exists" >&2; exit 2; }

script=$(cat <<'PY'
import re
import sys

limit = int(sys.argv[1])


def blank(text):
    """Comments and literals become spaces; newlines stay, so lines keep their numbers."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i)); i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif c == "R" and text.startswith('R"', i) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c); i += 1; continue
            end = text.find(")" + m.group(1) + '"', i)
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (min(j + 1, n) - i)); i = min(j + 1, n)
        else:
            out.append(c); i += 1
    return "".join(out)


CONTROL = re.compile(r"^(if|for|while|switch|catch|do|else|try)\b")
TYPE_SCOPE = re.compile(r"\b(namespace|class|struct|union|enum)\b[^()]*$")


def kind_of(header):
    h = " ".join(header.split())
    h = re.sub(r"^(template\s*<[^{}]*>\s*)", "", h)
    if not h or CONTROL.match(h) or h.startswith("extern"):
        return "other"
    if TYPE_SCOPE.search(h.split("(")[0]) or h.startswith("namespace"):
        return "scope"
    if "(" not in h:
        return "other"
    before_paren = h.split("(")[0]
    if "=" in before_paren or h.endswith("=") or h.startswith("return") or h.endswith(","):
        return "other"
    return "function"


def name_of(header):
    h = " ".join(header.split())
    m = re.search(r"([~\w:<>]+|operator\s*\S+)\s*\(", h)
    return (m.group(1) if m else h[:40]).strip()


found = []
for path in sys.stdin.read().split():
    text = blank(open(path, encoding="utf-8", errors="replace").read())
    stack = []  # (kind, start_line, name)
    header, header_line, line = [], None, 1
    for c in text:
        if c == "\n":
            line += 1
        if c == "{":
            in_function = any(k == "function" for k, _, _ in stack)
            h = "".join(header)
            kind = "inner" if in_function else kind_of(h)
            stack.append((kind, header_line or line, name_of(h)))
            header, header_line = [], None
        elif c == "}":
            if stack:
                kind, start, name = stack.pop()
                if kind == "function" and line - start + 1 > limit:
                    found.append((line - start + 1, path, start, name))
            header, header_line = [], None
        elif c == ";":
            header, header_line = [], None
        else:
            if header_line is None and not c.isspace():
                header_line = line
            header.append(c)

found.sort(key=lambda f: (-f[0], f[1], f[2]))
for lines, path, start, name in found:
    print(f"{lines:5d}  {path}:{start}  {name}")
print(f"{len(found)} functions over {limit} lines", file=sys.stderr)
sys.exit(1 if found else 0)
PY
)
find "${existing[@]}" -type f \( -name '*.cpp' -o -name '*.h' \) | sort | python3 -c "$script" "$limit"
