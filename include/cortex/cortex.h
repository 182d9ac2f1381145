// Cortex in one include: the tensor library and the Keras-style API (layers,
// models, optimisers, losses, data, callbacks, pictures, sequence tasks).
#pragma once

#include "cortex/ops/ops.h"
#include "cortex/seq/seq.h"
#include "cortex/train/train.h"
