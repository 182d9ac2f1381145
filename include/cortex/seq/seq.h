// The sequence tasks of the lecture in one include.
#pragma once

#include "cortex/seq/addition.h"
#include "cortex/seq/text.h"
