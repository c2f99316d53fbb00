/* lam-views.h: the views of what a network learns, in one include.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "lam-series.h"
#include "lam-loss-plot.h"
#include "lam-filter-view.h"
#include "lam-feature-view.h"
#include "lam-sample-browser.h"
#include "lam-prediction-view.h"
#include "lam-confusion-view.h"
#include "lam-boundary-view.h"
#include "lam-view-data.h"
