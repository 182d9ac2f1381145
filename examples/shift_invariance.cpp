// Shift invariance: why the lecture's CNN copes with moved images and an MLP
// does not, and what random-shift augmentation changes. Trains both networks
// with and without augmentation, then plots test accuracy against the shift.
//
//   build/cpu/examples/shift_invariance [--epochs N] [--max-steps N] [--max-shift N]
//                                       [--test-samples N] [-o shift_invariance.svg]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "cortex/train/train.h"

using namespace cortex;

int main(int argc, char** argv) try {
  train::ShiftInvarianceOptions options;  // 3 epochs, shifts of 0-6 pixels, 2,000 test images
  options.verbose = 2;
  std::string output = "shift_invariance.svg";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--epochs") == 0) options.epochs = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--max-steps") == 0) options.max_steps = std::atoll(argv[i + 1]);
    else if (std::strcmp(argv[i], "--max-shift") == 0) options.max_shift = std::atoll(argv[i + 1]);
    else if (std::strcmp(argv[i], "--test-samples") == 0) options.test_samples = std::atoll(argv[i + 1]);
    else if (std::strcmp(argv[i], "-o") == 0) output = argv[i + 1];
  }

  data::FashionMnist d = data::fashion_mnist();
  std::vector<train::ShiftCurve> curves = train::shift_invariance(d, options);

  for (const auto& c : curves) {
    std::printf("%-22s", c.label.c_str());
    for (std::size_t shift = 0; shift < c.accuracy.size(); ++shift)
      std::printf("  %zupx %5.1f%%", shift, 100 * c.accuracy[shift]);
    std::printf("\n");
  }
  std::ofstream(output) << train::shift_invariance_svg(curves);
  std::printf("Wrote %s\n", output.c_str());
  return 0;
} catch (const cortex::Error& e) {
  std::fprintf(stderr, "shift_invariance: %s\n", e.what());
  return 1;
}
