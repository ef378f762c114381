#!/usr/bin/env python3
"""Rewrites a kernels/cuda .cu file for the host emulation: every kernel launch
name<<<grid, block, shmem, stream>>>(args) becomes emu_launch(name, grid, block,
shmem, stream, args), and cuda_emu.h comes first.  Usage: host_cu.py IN.cu OUT.cpp"""
import re
import sys

src = open(sys.argv[1]).read()
src = re.sub(r'([A-Za-z_]\w*(?:\[[^\]]*\])?(?:<[^<>]*>)?)\s*<<<(.*?)>>>\(',
             lambda m: 'emu_launch(%s, %s, ' % (m.group(1), m.group(2)), src, flags=re.S)
open(sys.argv[2], 'w').write('#include "cuda_emu.h"\n' + src)
