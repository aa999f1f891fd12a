#!/usr/bin/env bash
# Formatting and static checks on the C++ files a change touches.
#
#   scripts/lint.sh [--all] [--format-only] [--ci] [BASE]
#
# Without --all: the .cpp/.h files that differ from BASE (default: the merge
# base with main, or HEAD~1 when on main), including uncommitted and untracked
# ones. clang-format (.clang-format) checks only the changed lines of tracked
# files (git clang-format) and the whole of untracked ones; clang-tidy
# (.clang-tidy, tests/.clang-tidy) checks each changed .cpp file, and the
# project headers it includes, using build/compile_commands.json (configured if
# missing). --all checks every file (slow: clang-tidy takes seconds per file).
# --format-only skips clang-tidy. --ci (what .ci/run does): clang-format on
# every tracked file (the tree is formatted; this takes seconds), clang-tidy on
# the .cpp files changed since the commit in .ci/lint_base (the last one CI
# checked; move it forward after a landing). Exit status 0 clean, 1 findings,
# 2 misuse.
set -euo pipefail
cd "$(dirname "$0")/.."

all=0 tidy=1 ci=0 base=""
for arg in "$@"; do
  case "$arg" in
    --all) all=1 ;;
    --format-only) tidy=0 ;;
    --ci) ci=1 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "lint: unknown option $arg" >&2; exit 2 ;;
    *) base=$arg ;;
  esac
done
for tool in clang-format clang-tidy git-clang-format; do
  command -v "$tool" > /dev/null || { echo "lint: $tool not found (scripts/install_deps.sh installs it)" >&2; exit 2; }
done

if [ $ci -eq 1 ]; then
  mapfile -t everything < <(git ls-files '*.cpp' '*.h')
  echo "lint: clang-format on ${#everything[@]} files"
  clang-format --dry-run -Werror "${everything[@]}" || { echo "lint: not formatted (fix: clang-format -i FILE)"; exit 1; }
  base=$(tr -d '[:space:]' < .ci/lint_base)
  if ! git rev-parse -q --verify "$base^{commit}" > /dev/null; then
    # A shallow clone lacks the base: check what the newest commit changed.
    echo "lint: .ci/lint_base ($base) is not in this clone; clang-tidy checks the files of the newest commit"
    base=HEAD~1
    git rev-parse -q --verify "$base^{commit}" > /dev/null || { echo "lint: no parent commit either; clang-tidy skipped"; exit 0; }
  fi
  mapfile -t files < <(git diff --name-only --diff-filter=ACMR "$base" HEAD -- '*.cpp')
  untracked=()
  format_done=1
elif [ $all -eq 1 ]; then
  mapfile -t files < <(git ls-files '*.cpp' '*.h')
  untracked=()
else
  if [ -z "$base" ]; then
    if git rev-parse -q --verify main > /dev/null && [ "$(git rev-parse HEAD)" != "$(git rev-parse main)" ]; then
      base=$(git merge-base HEAD main)
    else
      base=HEAD~1
    fi
  fi
  git rev-parse -q --verify "$base^{commit}" > /dev/null || { echo "lint: no commit $base" >&2; exit 2; }
  base=$(git rev-parse --short "$base")
  mapfile -t files < <(git diff --name-only --diff-filter=ACMR "$base" -- '*.cpp' '*.h')
  mapfile -t untracked < <(git ls-files --others --exclude-standard -- '*.cpp' '*.h')
fi
if [ ${#files[@]} -eq 0 ] && [ ${#untracked[@]} -eq 0 ]; then
  echo "lint: no changed C++ files${base:+ since $base}"
  exit 0
fi
echo "lint: ${#files[@]} changed and ${#untracked[@]} untracked C++ files${base:+ since $base}"
status=0

# 1. clang-format.
if [ "${format_done:-0}" -eq 1 ]; then
  :
elif [ $all -eq 1 ]; then
  clang-format --dry-run -Werror "${files[@]}" || status=1
else
  if [ ${#files[@]} -gt 0 ]; then
    diff=$(git clang-format --diff --extensions cpp,h "$base" -- "${files[@]}" || true)
    case "$diff" in
      ""|"no modified files to format"*|"clang-format did not modify any files"*) ;;
      *) echo "lint: clang-format would change these lines (fix: git clang-format $base):"; echo "$diff"; status=1 ;;
    esac
  fi
  if [ ${#untracked[@]} -gt 0 ]; then
    clang-format --dry-run -Werror "${untracked[@]}" || status=1
  fi
fi

# 2. clang-tidy on the .cpp files.
if [ $tidy -eq 1 ]; then
  if [ ! -f build/compile_commands.json ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON > /dev/null
  fi
  for f in "${files[@]}" "${untracked[@]}"; do
    case "$f" in *.cpp) ;; *) continue ;; esac
    if ! grep -q "\"file\": \"[^\"]*/$f\"" build/compile_commands.json; then
      echo "lint: $f is not in build/compile_commands.json (re-run cmake); clang-tidy skipped it"
      continue
    fi
    clang-tidy -p build --quiet "$f" 2> /dev/null || status=1
  done
fi

[ $status -eq 0 ] && echo "lint: clean" || echo "lint: findings above"
exit $status
