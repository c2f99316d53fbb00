/* lam-seq-views.h: the views of what a sequence network does, in one
 * include: hidden states over time, LSTM/GRU gates, attention weights,
 * generated text, and the data they need (lam-seq-data.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-seq-data.h"
#include "lam-sequence-view.h"
#include "lam-gate-view.h"
#include "lam-attention-view.h"
#include "lam-text-view.h"
