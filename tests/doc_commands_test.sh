#!/usr/bin/env bash
# The documentation's commands, run as a newcomer would: every fenced ```sh
# block of README.md and docs/*.md runs in a fresh clone of the repository, in
# file order, each block in a new bash (`set -euo pipefail`) from the clone's
# root. Each block must exit 0, and afterwards `git status --porcelain` in the
# clone must be empty (commands write only into git-ignored folders such as
# out/, or outside the clone).
#
# A block preceded by the line
#   <!-- doc-test: skip (reason) -->
# is not run (package installs, the whole suite, hour-long sweeps, Slurm); the
# test lists every skipped block with its reason.
#
#   tests/doc_commands_test.sh SOURCE_DIR BUILD_DIR [FILE.md ...]
#
# SOURCE_DIR is the repository (its working tree is what is tested: tracked
# files with their uncommitted changes, and untracked files that are not
# ignored). BUILD_DIR holds the built npusim; the clone gets it as build/ (a
# symlink, git-excluded in the clone), so nothing is rebuilt. With FILE.md
# arguments (paths relative to SOURCE_DIR) only those files run.
# Exit status: 0 all blocks passed, 1 a block failed or left files behind,
# 77 skipped (no git, or SOURCE_DIR is not a git checkout).
set -uo pipefail

source_dir=$(cd "${1:?usage: doc_commands_test.sh SOURCE_DIR BUILD_DIR [FILE.md ...]}" && pwd)
build_dir=$(cd "${2:?usage: doc_commands_test.sh SOURCE_DIR BUILD_DIR [FILE.md ...]}" && pwd)
shift 2
block_timeout_s=${DOC_TEST_BLOCK_TIMEOUT_S:-300}

command -v git > /dev/null || { echo "doc test: skipped (no git)"; exit 77; }
git -C "$source_dir" rev-parse --git-dir > /dev/null 2>&1 ||
  { echo "doc test: skipped ($source_dir is not a git checkout)"; exit 77; }
[ -x "$build_dir/npusim" ] || { echo "doc test: $build_dir/npusim is not built" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/npusim_doc_test.XXXXXX")
trap 'rm -rf "$work"' EXIT
clone=$work/clone

# 1. A fresh clone, then the source's working tree on top of it, committed in
# the clone, so that the docs as they are now are tested and the clone starts
# clean.
git clone -q "$source_dir" "$clone" || { echo "doc test: git clone failed" >&2; exit 1; }
(
  cd "$source_dir" &&
    git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done |
      tar --null -T - -cf -
) | tar -xf - -C "$clone"
git -C "$source_dir" ls-files -z --deleted | (cd "$clone" && xargs -0 -r rm -f --)
git -C "$clone" add -A
git -C "$clone" -c user.name=doc-test -c user.email=doc-test@localhost \
  commit -q --allow-empty -m "working tree under test"
ln -s "$build_dir" "$clone/build"
# npm packages (onnxruntime-node) that install_deps.sh put in the git-ignored .deps/.
if [ -d "$source_dir/.deps" ]; then ln -s "$source_dir/.deps" "$clone/.deps"; fi
echo "/build" >> "$clone/.git/info/exclude"
echo "/.deps" >> "$clone/.git/info/exclude"

status=$(git -C "$clone" status --porcelain)
[ -z "$status" ] || { echo "doc test: the clone is not clean before any command:"; echo "$status"; exit 1; }

# 2. The blocks, extracted with their file, line and skip reason.
if [ $# -gt 0 ]; then
  files=("$@")
else
  files=(README.md)
  for f in "$clone"/docs/*.md; do [ -e "$f" ] && files+=("docs/$(basename "$f")"); done
fi

blocks=$work/blocks
mkdir -p "$blocks"
for f in "${files[@]}"; do
  [ -f "$clone/$f" ] || { echo "doc test: no file $f" >&2; exit 1; }
  awk -v file="$f" -v dir="$blocks" '
    function flush_meta(kind) {
      printf "%s\t%d\t%s\t%s\n", file, start, kind, reason > (dir "/" name ".meta")
      close(dir "/" name ".meta")
    }
    BEGIN { n = 0; in_block = 0; skip = ""; prev = "" }
    {
      if (!in_block && $0 ~ /^```sh[ \t]*$/) {
        in_block = 1; start = NR; n++
        name = sprintf("%s_%03d", file, n); gsub(/[\/.]/, "_", name)
        reason = ""
        if (prev ~ /^<!-- doc-test: skip/) {
          reason = prev
          sub(/^<!-- doc-test: skip[ \t]*\(?/, "", reason); sub(/\)?[ \t]*-->[ \t]*$/, "", reason)
          if (reason == "") reason = "no reason given"
        }
        printf "" > (dir "/" name ".sh")
        next
      }
      if (in_block && $0 ~ /^```[ \t]*$/) {
        in_block = 0; close(dir "/" name ".sh")
        flush_meta(reason == "" ? "run" : "skip")
        prev = $0; next
      }
      if (in_block) print >> (dir "/" name ".sh")
      if ($0 !~ /^[ \t]*$/) prev = $0
    }
    END { if (in_block) { print file ":" start ": unterminated ```sh block" > "/dev/stderr"; exit 1 } }
  ' "$clone/$f" || exit 1
done

# 3. Relative links ([text](path) and [text](path#anchor)) must name a file or
# folder inside the clone. Pages that other branches are writing are allowed
# to be missing until they merge; the test says so.
failed=0
written_elsewhere=" docs/dram.md docs/numerics.md docs/robustness.md "
for f in "${files[@]}"; do
  dir=$(dirname "$f")
  while IFS= read -r target; do
    case "$target" in http:* | https:* | mailto:* | "#"*) continue ;; esac
    path=${target%%#*}
    resolved=$(realpath -m --relative-to="$clone" "$clone/$dir/$path")
    case "$resolved" in
      ../* | ..) echo "FAIL $f: link $target points outside the repository"; failed=$((failed + 1)) ;;
      *)
        anchor=""
        [[ "$target" == *"#"* ]] && anchor=${target#*#}
        if [ -n "$anchor" ] && [ -f "$clone/$resolved" ] && [[ "$resolved" == *.md ]] &&
          ! grep -E '^#{1,6} ' "$clone/$resolved" | sed -E 's/^#+ +//' | tr 'A-Z' 'a-z' |
            LC_ALL=C sed -E 's/[^a-z0-9 _-]//g; s/ /-/g' | grep -qxF -- "$anchor"; then
          echo "FAIL $f: link $target: no heading #$anchor in $resolved"; failed=$((failed + 1))
        fi
        if [ ! -e "$clone/$resolved" ]; then
          if [[ "$written_elsewhere" == *" $resolved "* ]]; then
            echo "note $f: link $target: $resolved is not here yet (written on another branch)"
          else
            echo "FAIL $f: link $target: no file $resolved"; failed=$((failed + 1))
          fi
        fi
        ;;
    esac
  done < <(grep -o '\](\([^)[:space:]]*\))' "$clone/$f" | sed 's/^](\(.*\))$/\1/' | sort -u)
done

# The folder listing matches the architecture page: every folder holding C++
# sources (outside tests/ and bench/) is named there as `folder/`.
if [ -f "$clone/docs/architecture.md" ]; then
  while IFS= read -r d; do
    grep -qF "\`$d/\`" "$clone/docs/architecture.md" ||
      { echo "FAIL docs/architecture.md does not name the source folder $d/"; failed=$((failed + 1)); }
  done < <(git -C "$clone" ls-files '*.cpp' '*.h' | xargs -n1 dirname | sort -u | grep -v -E '^(tests|bench)(/|$)')
fi

# The README stays a short front door.
readme_lines=$(wc -l < "$clone/README.md")
[ "$readme_lines" -le 200 ] ||
  { echo "FAIL README.md has $readme_lines lines (at most 200: move detail into docs/)"; failed=$((failed + 1)); }

# 4. Run the blocks, in file order (README first, then docs/ alphabetically).
ran=0
skipped=()
start_all=$(date +%s)
for f in "${files[@]}"; do
  prefix=$(printf '%s' "$f" | tr '/.' '__')
  for meta in "$blocks/${prefix}"_[0-9][0-9][0-9].meta; do
    [ -e "$meta" ] || continue
    IFS=$'\t' read -r file line kind reason < "$meta"
    script=${meta%.meta}.sh
    if [ "$kind" = skip ]; then
      skipped+=("$file:$line: $reason")
      continue
    fi
    ran=$((ran + 1))
    t0=$(date +%s)
    out=$work/last_output
    # Debian's tools first: the docs' python3 is the one install_deps.sh gave
    # numpy and torch (a pyenv or venv python3 earlier in PATH has neither).
    (cd "$clone" && PATH="/usr/bin:/bin:$PATH" timeout "$block_timeout_s" bash -euo pipefail "$script") > "$out" 2>&1
    rc=$?
    t1=$(date +%s)
    if [ $rc -ne 0 ]; then
      failed=$((failed + 1))
      echo "FAIL $file:$line (exit $rc, $((t1 - t0)) s):"
      sed 's/^/    | /' "$script"
      echo "    output (last 30 lines):"
      tail -n 30 "$out" | sed 's/^/    > /'
    else
      echo "ok   $file:$line ($((t1 - t0)) s)"
    fi
    status=$(git -C "$clone" status --porcelain)
    if [ -n "$status" ]; then
      failed=$((failed + 1))
      echo "FAIL $file:$line left files in the clone (git status --porcelain):"
      echo "$status" | sed 's/^/    /'
      git -C "$clone" clean -fdq
      git -C "$clone" checkout -q -- .
    fi
  done
done

echo
echo "skipped blocks (${#skipped[@]}):"
for s in "${skipped[@]}"; do echo "  $s"; done
echo
echo "doc test: $ran blocks run, ${#skipped[@]} skipped, $failed failed, $(($(date +%s) - start_all)) s"
[ $failed -eq 0 ]
