// Visualisation: pictures of what a network learnt, charts of how it trained,
// and the layer graph.
#pragma once

#include "cortex/viz/chart.h"
#include "cortex/viz/inspect.h"
#include "cortex/viz/model_graph.h"
#include "cortex/viz/picture.h"
