#!/usr/bin/env bash
# Builds flashkmeans for release and installs it under PREFIX (default /usr/local):
#
#   PREFIX/bin/flashkmeans
#   PREFIX/share/man/man1/flashkmeans.1                      from the command's own help
#   PREFIX/share/bash-completion/completions/flashkmeans
#   PREFIX/share/zsh/site-functions/_flashkmeans
#   PREFIX/share/fish/vendor_completions.d/flashkmeans.fish
#
#   Scripts/install.sh [--debug] [PREFIX]
#
# The binary carries the Swift runtime (--static-swift-stdlib), so it runs without the
# toolchain; it still needs OpenBLAS (libopenblas0), and HDF5 (libhdf5-103-1) only to read
# HDF5 files. The man page comes from swift-argument-parser's generate-manual plugin, the
# completions from `flashkmeans --generate-completion-script`. --debug installs the debug
# build instead (Scripts/check_install.sh, so the tests need no release build). Uses sudo
# when PREFIX is not writable.
set -euo pipefail
cd "$(dirname "$0")/.."

configuration=release
if [ "${1:-}" = "--debug" ]; then
    configuration=debug
    shift
fi
prefix=${1:-/usr/local}
[ $# -le 1 ] || { echo "usage: Scripts/install.sh [--debug] [PREFIX]" >&2; exit 2; }

build=(swift build -c "$configuration" --product flashkmeans)
[ "$configuration" = release ] && build+=(--static-swift-stdlib)
"${build[@]}" >&2
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
# Taken now: the plugin below builds the product again without --static-swift-stdlib
# (it takes no build flags), which relinks it in place.
cp "$("${build[@]}" --show-bin-path)/flashkmeans" "$staging/flashkmeans"
binary=$staging/flashkmeans

# The plugin builds the product itself (compiled above, so it at most relinks it) and
# says where it wrote the page.
manual_log=$(swift package plugin generate-manual --configuration "$configuration" 2>&1) || {
    echo "$manual_log" >&2
    echo "error: swift package plugin generate-manual failed" >&2
    exit 1
}
manual_directory=$(sed -n "s|^Generated manual in 'file://\(.*\)'.*|\1|p" <<<"$manual_log" | tail -1)
[ -f "$manual_directory/flashkmeans.1" ] || { echo "$manual_log" >&2; echo "error: the generated manual page is missing" >&2; exit 1; }
cp "$manual_directory/flashkmeans.1" "$staging/flashkmeans.1"
for shell in bash zsh fish; do
    "$binary" --generate-completion-script "$shell" >"$staging/completion.$shell"
done

sudo_cmd=""
mkdir -p "$prefix" 2>/dev/null || true
if [ ! -w "$prefix" ] && [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
$sudo_cmd install -D -m 755 "$binary" "$prefix/bin/flashkmeans"
$sudo_cmd install -D -m 644 "$staging/flashkmeans.1" "$prefix/share/man/man1/flashkmeans.1"
$sudo_cmd install -D -m 644 "$staging/completion.bash" "$prefix/share/bash-completion/completions/flashkmeans"
$sudo_cmd install -D -m 644 "$staging/completion.zsh" "$prefix/share/zsh/site-functions/_flashkmeans"
$sudo_cmd install -D -m 644 "$staging/completion.fish" "$prefix/share/fish/vendor_completions.d/flashkmeans.fish"
echo "installed $("$prefix/bin/flashkmeans" --version) into $prefix (bin, man page, bash/zsh/fish completions)" >&2
