#!/usr/bin/env bash
# The sources are clang-format clean (.clang-format at the root).
# Usage: format.sh SOURCE_DIR
set -u
cd "$1" || exit 1
files=$(ls src/*.c src/*/*.c src/*/*.h src/*/*/*.c src/*/*/*.h sim/*/*.c sim/*/*.h tests/unit/*.c \
	tests/unit/*.h fuzz/*.c bench/*.c 2>/dev/null)
if clang-format --dry-run --Werror $files; then
	echo "format: $(echo "$files" | wc -l) files clean"
else
	echo "format: run 'make format'"
	exit 1
fi
