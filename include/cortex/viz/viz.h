// Visualisation: pictures of what a network learnt and charts of how it trained.
#pragma once

#include "cortex/viz/chart.h"
#include "cortex/viz/inspect.h"
#include "cortex/viz/picture.h"
