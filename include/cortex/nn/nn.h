// The nn layer in one include: Module, layers, initialisers, Sequential.
#pragma once

#include "cortex/nn/functional.h"
#include "cortex/nn/init.h"
#include "cortex/nn/layers.h"
#include "cortex/nn/module.h"
#include "cortex/nn/recurrent.h"
#include "cortex/nn/sequential.h"
#include "cortex/nn/zoo.h"
