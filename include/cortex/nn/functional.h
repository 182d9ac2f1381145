// Keras's functional API: layers called on symbolic tensors build a graph,
// and Functional runs it (several inputs and outputs, skips, shared layers).
//   auto x = Input({7, 12}, "question");
//   auto h = LSTM({.units = 128})(x);
//   auto y = Dense({.units = 12, .activation = "softmax"})(h);
//   train::Model model({x}, {y});
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "cortex/nn/module.h"

namespace cortex::nn {

struct GraphNode;

// A tensor that does not exist yet: output `index` of a layer's call in a
// graph. Its shape leaves out the batch axis; -1 marks an axis of any size.
class Symbolic {
 public:
  Symbolic() = default;
  Symbolic(std::shared_ptr<GraphNode> node, int index) : node_(std::move(node)), index_(index) {}
  const Shape& shape() const;
  DType dtype() const;
  // "lstm[0][1]": the layer, which of its calls, which output (Keras's "Connected to").
  std::string describe() const;
  const std::shared_ptr<GraphNode>& node() const { return node_; }
  int index() const { return index_; }
  bool defined() const { return node_ != nullptr; }

 private:
  std::shared_ptr<GraphNode> node_;
  int index_ = 0;
};

// The outputs of a call on several inputs (or of a layer with several
// outputs); it stands for its one element where one tensor is expected:
// `Symbolic y = Add()({a, b});`.
class Symbolics : public std::vector<Symbolic> {
 public:
  using std::vector<Symbolic>::vector;
  Symbolics(std::vector<Symbolic> v) : std::vector<Symbolic>(std::move(v)) {}
  operator Symbolic() const;  // a ValueError unless there is exactly one
};

// A model's input: Input({28, 28, 1}) starts a Sequential, and
// `auto x = Input({T, F}, "name")` starts a functional graph (-1: any size).
class Input : public Symbolic {
 public:
  Input(Shape shape, std::string name = "", DType dtype = DType::f32);
};

// A per-sample shape as Keras prints it: "(None, 7, 12)", the batch axis and
// free axes (-1) as None (summaries, errors, the drawn graph).
std::string shape_text(const Shape& per_sample);

// One call of a layer in a graph (or an Input, whose layer is null).
struct GraphNode {
  std::shared_ptr<Module> layer;
  std::vector<Symbolic> inputs;
  std::vector<Shape> shapes;  // each output's, without the batch axis
  std::vector<DType> dtypes;
  std::string input_name;     // an Input's name
  std::uint64_t id = 0;       // creation order: a node comes after its inputs
  int call = 0;               // which call of `layer` this is, in creation order
};

// Calls `layer` on symbolic inputs: sizes the outputs by running the layer on
// small probes (an axis of any size is probed at two sizes), so a layer that
// does not fit its inputs fails here, naming itself and what it was given.
std::vector<Symbolic> call_symbolic(const std::shared_ptr<Module>& layer, const std::vector<Symbolic>& inputs);

// The graph between `inputs` and `outputs`, run as one module. Each layer is a
// child under its unique name (Keras's, or the one given); a layer called
// twice is one child with one set of weights. A graph whose outputs need an
// Input not listed, or that lists an input twice, is a ValueError naming the layer.
class Functional : public Module {
 public:
  Functional(std::vector<Symbolic> inputs, std::vector<Symbolic> outputs, std::string name = "functional");

  Tensor forward(const Tensor& x) override { return call({.inputs = {x}}).tensors[0]; }
  const std::vector<Symbolic>& inputs() const { return inputs_; }
  const std::vector<Symbolic>& outputs() const { return outputs_; }
  // Every layer call, inputs first, in an order where each comes after its inputs.
  const std::vector<std::shared_ptr<GraphNode>>& nodes() const { return nodes_; }
  // The distinct layers, in the order of their first call.
  const std::vector<std::shared_ptr<Module>>& layers() const { return layers_; }

  // The activation that output `i` ends with when a loss may take the logits
  // before it instead (the fused softmax cross-entropy): its layer is an
  // Activated one (Dense, Conv2D, TimeDistributed, ...) and nothing else in the
  // graph reads that output. "" otherwise.
  std::string output_activation(std::size_t i) const;
  // Runs the graph as call() does, but output i comes out before its layer's
  // activation where logits[i] is set (output_activation(i) must name one).
  Outputs call_logits(const Call& c, const std::vector<bool>& logits);

  // Keras's summary table with the "Connected to" column.
  std::string summary();  // builds the layers first, if the graph has not run yet
  // The graph as JSON (Keras's schema: layers with their inbound nodes,
  // input_layers, output_layers), and back.
  std::string graph_json() const;
  static std::shared_ptr<Functional> from_graph_json(const std::string& json);

 protected:
  Outputs call_impl(const Call& c) override;
  void check_input(const Tensor& x) const override {}
  // Builds every layer by running one sample (the shape given is not used).
  void build_impl(const Shape&) override;

 private:
  // call_impl, with the nodes in `linear` run without their activation.
  Outputs run(const Call& c, const std::vector<const GraphNode*>& linear);

  std::vector<Symbolic> inputs_, outputs_;
  std::vector<std::shared_ptr<GraphNode>> nodes_;
  std::vector<std::shared_ptr<Module>> layers_;
};

// Merge layers: several inputs of one shape (Concatenate: equal but for the
// axis) into one. Masks: the steps real in every input; Concatenate along
// time (axis 1) joins its inputs' masks (a missing mask: every step real).
class Merge : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  bool supports_masking() const override { return true; }

 protected:
  explicit Merge(std::string type) : Module(std::move(type)) {}
  Outputs call_impl(const Call& c) override;
  void check_input(const Tensor& x) const override {}
  virtual Tensor merge(const std::vector<Tensor>& xs) = 0;
};

class Add : public Merge {
 public:
  Add() : Merge("Add") {}
 protected:
  Tensor merge(const std::vector<Tensor>& xs) override;
};
class Subtract : public Merge {
 public:
  Subtract() : Merge("Subtract") {}
 protected:
  Tensor merge(const std::vector<Tensor>& xs) override;
};
class Multiply : public Merge {
 public:
  Multiply() : Merge("Multiply") {}
 protected:
  Tensor merge(const std::vector<Tensor>& xs) override;
};
class Average : public Merge {
 public:
  Average() : Merge("Average") {}
 protected:
  Tensor merge(const std::vector<Tensor>& xs) override;
};
class Maximum : public Merge {
 public:
  Maximum() : Merge("Maximum") {}
 protected:
  Tensor merge(const std::vector<Tensor>& xs) override;
};
class Concatenate : public Merge {
 public:
  explicit Concatenate(std::int64_t axis = -1) : Merge("Concatenate"), axis_(axis) {}
  std::string config_json() const override;
  std::int64_t axis() const { return axis_; }
 protected:
  Tensor merge(const std::vector<Tensor>& xs) override;
 private:
  std::int64_t axis_;
};
// Dot products of two inputs along `axes` (one per input; batch axis excluded
// counting from 1): (N, T, D) . (N, S, D) on axes (2, 2) gives (N, T, S).
class Dot : public Merge {
 public:
  explicit Dot(std::array<std::int64_t, 2> axes, bool normalize = false);
  explicit Dot(std::int64_t axes, bool normalize = false) : Dot({axes, axes}, normalize) {}
  std::string config_json() const override;
 protected:
  Tensor merge(const std::vector<Tensor>& xs) override;
 private:
  std::array<std::int64_t, 2> axes_;
  bool normalize_;
};

}  // namespace cortex::nn
