#!/usr/bin/env python3
# lam-cuda-emu-gen.py: turns a kernels/cuda/*.cu file into host C++ for
# the CUDA emulator by rewriting each kernel launch
#     kernel<<<grid, block, shmem, stream>>> (args);
# into
#     emu_launch (emu_cfg ("kernel", __FILE__, __LINE__, grid, block, shmem, stream),
#                 kernel, args);
# Everything else is left as it is, and line numbers are kept (a #line
# names the .cu file), so compiler errors and LAM_CUDA_CHECK messages
# point into the original source. Fails on a launch it cannot parse.
#
#   lam-cuda-emu-gen.py INPUT.cu OUTPUT.cc
#   lam-cuda-emu-gen.py --check-list DIR FILE.cu...   (every DIR/*.cu listed?)
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import re
import sys

LAUNCH = re.compile(r'\b([A-Za-z_]\w*)\s*<<<(.*?)>>>\s*\(', re.S)
SEMICOLON = re.compile(r'\s*;')
MASK = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)


def fail(path, text, pos, msg):
    line = text.count('\n', 0, pos) + 1
    sys.exit(f'{path}:{line}: {msg}')


def masked(text):
    """text with comments and literals blanked, same length and lines."""
    return MASK.sub(lambda m: re.sub(r'[^\n]', ' ', m.group(0)), text)


def closing_paren(text, i):
    """Index of the ')' matching the '(' at text[i], or -1."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] == '(':
            depth += 1
        elif text[j] == ')':
            depth -= 1
            if depth == 0:
                return j
    return -1


def rewrite(path, text):
    code = masked(text)
    out = []
    pos = 0
    for m in LAUNCH.finditer(code):
        if m.start() < pos:
            fail(path, text, m.start(), 'a kernel launch inside another launch')
        name = m.group(1)
        cfg = text[m.start(2):m.end(2)]
        open_at = m.end() - 1
        close_at = closing_paren(code, open_at)
        if close_at < 0:
            fail(path, text, m.start(), f'unbalanced arguments in the launch of {name}')
        semi = SEMICOLON.match(code, close_at + 1)
        if semi is None:
            fail(path, text, m.start(), f'the launch of {name} is not a statement of its own')
        args = text[open_at + 1:close_at]
        # newlines outside cfg and args, kept so that lines keep their numbers
        newlines = code.count('\n', m.end(2), open_at) + code.count('\n', close_at, semi.end())
        out.append(text[pos:m.start()])
        out.append(f'emu_launch (emu_cfg ("{name}", __FILE__, __LINE__, {cfg}), {name}')
        if args.strip():
            out.append(',' + (args if args[0].isspace() else ' ' + args))
        out.append(');')
        out.append('\n' * newlines)
        pos = semi.end()
    out.append(text[pos:])
    result = ''.join(out)
    left = masked(result).find('<<<')
    if left >= 0:
        fail(path, result, left, 'a kernel launch that this script could not rewrite')
    return result


def main(argv):
    if len(argv) >= 3 and argv[1] == '--check-list':
        directory = argv[2]
        listed = {os.path.basename(f) for f in argv[3:]}
        present = {f for f in os.listdir(directory) if f.endswith('.cu')}
        missing = sorted(present - listed)
        if missing:
            sys.exit('kernels/meson.build: add to cuda_sources: ' + ' '.join(missing))
        return
    if len(argv) != 3:
        sys.exit(f'usage: {argv[0]} INPUT.cu OUTPUT.cc')
    src, dst = argv[1], argv[2]
    with open(src, encoding='utf-8') as f:
        text = f.read()
    body = rewrite(src, text)
    with open(dst, 'w', encoding='utf-8') as f:
        f.write(f'/* Generated from {os.path.basename(src)} by lam-cuda-emu-gen.py: do not edit. */\n')
        f.write(f'#include "lam-cuda-emu.h"\n#line 1 "{src}"\n')
        f.write(body)


if __name__ == '__main__':
    main(sys.argv)
