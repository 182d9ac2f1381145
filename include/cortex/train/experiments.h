// Experiments of the course, runnable from code and from `cortex experiment`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cortex/data/datasets.h"

namespace cortex::train {

struct ShiftInvarianceOptions {
  int epochs = 3;
  std::int64_t batch_size = 128;
  std::int64_t max_shift = 6;        // test shifts of 0 ... max_shift pixels
  std::int64_t augment_shift = 0;    // training shifts of up to this many pixels (0: max_shift)
  std::int64_t test_samples = 2000;  // the first N test images (0: all)
  std::int64_t max_steps = 0;        // caps each epoch's batches (smoke runs)
  std::uint64_t seed = 0;
  int verbose = 0;                   // fit's verbosity
};

// Test accuracy of one trained model at each shift: accuracy[s] for s pixels.
struct ShiftCurve {
  std::string label;  // "MLP", "MLP + random shifts", "CNN", "CNN + random shifts"
  std::vector<double> accuracy;
};

// Trains the MLP (nn::zoo::mlp) and the lecture CNN (nn::zoo::lecture_cnn) on
// the training set, each without and with random-shift augmentation
// (Adadelta as in the lecture), then measures test accuracy with every test
// image moved by s pixels (s = 0 ... max_shift; the mean over left, right,
// up and down; zeros fill in). Convolution and pooling make the CNN degrade
// slowly where the MLP falls off; augmentation teaches both the shifts.
std::vector<ShiftCurve> shift_invariance(const data::FashionMnist& data, const ShiftInvarianceOptions& options = {});

// The curves as an SVG line chart: test accuracy against shift.
std::string shift_invariance_svg(const std::vector<ShiftCurve>& curves);

}  // namespace cortex::train
