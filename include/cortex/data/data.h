// The data layer in one include: IDX files, datasets, labels, loaders, augmentation.
#pragma once

#include "cortex/data/augment.h"
#include "cortex/data/datasets.h"
#include "cortex/data/idx.h"
#include "cortex/data/labels.h"
#include "cortex/data/loader.h"
