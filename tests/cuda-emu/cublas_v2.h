/* cublas_v2.h: the CUDA emulator's stand-in for the toolkit's header, so that
 * kernels/cuda/lam-cuda.h compiles unchanged against lam-cuda-emu.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-cuda-emu.h"
