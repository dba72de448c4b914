#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""trace-list.py TRACE ROOT: the files (f), directories (d) and links (l) under ROOT that a
program opened or read, in order, from `strace -f -y -e trace=openat,readlinkat,readlink`
(successful calls only; a path relative to a directory fd is joined to the path strace -y
prints for it). bench/serve.sh feeds the list to bench/replay."""
import re, sys
root = sys.argv[2]
out = []
for line in open(sys.argv[1]):
    m = re.search(r'(openat|readlinkat|readlink)\((.*)\) = (-?\d+)', line)
    if not m or int(m.group(3)) < 0:
        continue
    call, args = m.group(1), m.group(2)
    if call == 'readlink':
        path = re.match(r'"([^"]*)"', args).group(1)
    else:
        dm = re.match(r'(AT_FDCWD|\d+<([^>]*)>),\s*"([^"]*)"', args)
        if not dm:
            continue
        name = dm.group(3)
        path = name if name.startswith('/') or dm.group(1) == 'AT_FDCWD' else dm.group(2) + '/' + name
    if not path.startswith(root):
        continue
    kind = 'l' if call != 'openat' else ('d' if 'O_DIRECTORY' in args else 'f')
    out.append(f'{kind} {path}')
print('\n'.join(out))
