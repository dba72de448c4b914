#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench/paths.sh ROOT COMMAND [ARG...]: the paths under ROOT that COMMAND opens, stats or reads
# as a link, one per line and sorted, from strace. bench/run.sh compares the lists of
# `mipart list --json` and of bench/floor to show that the floor does the same filesystem work.
# Paths of opened files are the kernel's (strace -y: symlinks resolved), so
# bus/pci/devices/BDF/vendor shows as devices/.../BDF/vendor for both programs.
#
#   file  P   opened and read          dir   P   opened to list or as a base for *at() calls
#   stat  P   stat'ed by name          link  P   readlink
#   ... (absent) when the call failed
set -eu
[ $# -ge 2 ] || { echo "usage: bench/paths.sh ROOT COMMAND [ARG...]" >&2; exit 2; }
command -v strace >/dev/null || { echo "bench/paths.sh: strace is not installed" >&2; exit 1; }
root=$(realpath "$1")
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT
strace -f -qq -y -e trace=openat,open,readlink,readlinkat,newfstatat,stat,lstat,statx \
	-o "$log" "$@" >/dev/null
ROOT=$root perl -ne '
	s/^\d+\s+//;
	my ($call, $args) = /^(\w+)\((.*)$/ or next;
	my ($kind, $path);
	my $dir = $args =~ /^(?:AT_FDCWD|\d+)<([^>]*)>, / ? $1 : "";
	my ($name) = $args =~ /"((?:[^"\\]|\\.)*)"/;
	next unless defined $name;
	my $full = $name =~ m{^/} ? $name : "$dir/$name";
	if ($call =~ /^open/) {
		$kind = $args =~ /O_DIRECTORY/ ? "dir" : "file";
		$full = $1 if / = \d+<([^>]*)>$/;
	} elsif ($call =~ /^readlink/) {
		$kind = "link";
	} else {
		next if $name eq "";	# fstat of an open fd
		$kind = "stat";
	}
	next unless index($full, "$ENV{ROOT}/") == 0;
	$full = substr($full, length($ENV{ROOT}));
	print "$kind $full", (/ = -1 / ? " (absent)" : ""), "\n";
' "$log" | sort -u
