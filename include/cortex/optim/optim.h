// Everything a user of Cortex's optimisers needs, in one include.
#pragma once

#include "cortex/optim/adadelta.h"
#include "cortex/optim/adagrad.h"
#include "cortex/optim/adam.h"
#include "cortex/optim/optimizer.h"
#include "cortex/optim/rmsprop.h"
#include "cortex/optim/schedule.h"
#include "cortex/optim/sgd.h"
