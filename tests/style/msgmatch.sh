#!/bin/sh
# No control flow decided by the text of an error message: callers test the
# error's kind (util/err.h). Any strstr/strcmp/strncmp on a message buffer
# in src/ is a violation.
# Usage: msgmatch.sh SOURCE_DIR
cd "$1" || exit 2
hits=$(grep -rnE 'strstr\(.*msg|(strcmp|strncmp|strcasestr)\([^;]*(msg\.buf|->msg\b)' src/)
if [ -n "$hits" ]; then
	printf '%s\n' "$hits"
	echo "msgmatch: $(printf '%s\n' "$hits" | wc -l) places decide on an error message's text"
	exit 1
fi
echo "msgmatch: no error-message matching in src/"
