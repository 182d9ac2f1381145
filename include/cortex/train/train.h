// The Keras-style API in one include: layers, models, optimisers, data.
#pragma once

#include "cortex/ops/ops.h"
#include "cortex/data/data.h"
#include "cortex/losses/losses.h"
#include "cortex/nn/nn.h"
#include "cortex/optim/optim.h"
#include "cortex/train/callbacks.h"
#include "cortex/train/metrics.h"
#include "cortex/train/model.h"
#include "cortex/train/experiments.h"
#include "cortex/train/report.h"
#include "cortex/viz/viz.h"
