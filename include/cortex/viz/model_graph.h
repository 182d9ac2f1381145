// A model's layer graph as a picture (Keras's plot_model): one box per layer
// with its name, type and input and output shapes, an arrow for each
// connection; written as a Graphviz DOT file and drawn by Graphviz's `dot`.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cortex/nn/module.h"

namespace cortex::viz {

struct LayerBox {
  std::string name, type;                 // "lstm", "LSTM"; an input: its name, "InputLayer"
  std::string input_shape, output_shape;  // "(None, 100, 64)"; "multiple" for a layer called on several shapes
  std::int64_t params = 0;
};

struct ModelGraph {
  std::vector<LayerBox> boxes;                // in the order the graph runs them
  std::vector<std::pair<int, int>> edges;     // from box, to box (a layer fed twice by one box: one edge)
};

// The graph of a Sequential (a chain from its Input) or a Functional model
// (shapes from the graph; a shared layer is one box fed by each of its
// calls). A Sequential without an input shape, or another kind of module, is
// a ValueError naming what it is. Sizing a Sequential runs one sample through it.
ModelGraph model_graph(nn::Module& network);

// The DOT text of the graph, top to bottom, titled `title`.
std::string model_dot(const ModelGraph& graph, const std::string& title);

// Runs Graphviz's `program` (dot) on the DOT file to write `output` (.svg or
// .png, by its extension), atomically. An Error naming Debian's graphviz
// package when the program is missing, and dot's exit status when it fails.
void render_dot(const std::string& dot_path, const std::string& output, const std::string& program = "dot");

}  // namespace cortex::viz
