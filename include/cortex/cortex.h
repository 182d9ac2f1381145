// Everything a user of Cortex's tensor library needs, in one include.
#pragma once

#include "cortex/autograd/engine.h"
#include "cortex/autograd/grad_mode.h"
#include "cortex/autograd/node.h"
#include "cortex/core/generator.h"
#include "cortex/core/tensor.h"
#include "cortex/core/threads.h"
#include "cortex/ops/activation.h"
#include "cortex/ops/autocast.h"
#include "cortex/ops/conv.h"
#include "cortex/ops/creation.h"
#include "cortex/ops/elementwise.h"
#include "cortex/ops/loss.h"
#include "cortex/ops/matmul.h"
#include "cortex/ops/pool.h"
#include "cortex/ops/reduce.h"
#include "cortex/ops/shape_ops.h"
