// Node: one recorded op on the tape: edges to where its inputs' gradients go,
// and the closure that turns the output's gradient into the inputs'.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cortex/core/tensor.h"

namespace cortex::autograd {

// Maps the gradient of the node's output to one gradient per input
// (an undefined Tensor where an input needs none). It captures what it saved.
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;
// The same for a node with several outputs (an LSTM's y, h and c; the steps of
// unbind): one gradient per output, undefined for an output nothing used.
using MultiBackwardFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& grad_outputs)>;

class Node {
 public:
  // Where one input's gradient goes: the node that made the input, or the
  // input itself when it is a leaf that requires grad, or nowhere.
  struct Edge {
    std::shared_ptr<Node> node;
    std::shared_ptr<TensorImpl> leaf;
    std::uint32_t output_nr = 0;  // which of `node`'s outputs the input was
    Shape shape;  // the input's shape, dtype and device, to check what backward returns
    DType dtype = DType::f32;
    Device device;
  };

  // Records the inputs (and the output, which a rule may use, and `saved`: other
  // tensors the closure reads, such as an index or a mask) with their storage
  // versions: apply() refuses to run if any was overwritten since.
  Node(std::string name, const std::vector<Tensor>& inputs, const Tensor& output, BackwardFn backward,
       const std::vector<Tensor>& saved = {});
  Node(std::string name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
       MultiBackwardFn backward, const std::vector<Tensor>& saved = {});
  ~Node();  // iterative: a chain of 100k nodes must not recurse
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<Edge>& edges() const { return edges_; }
  std::uint32_t num_outputs() const { return num_outputs_; }

  // Runs the backward closure with one gradient per output (undefined where
  // an output got none; a one-output node always gets a defined one);
  // throws AutogradError once released.
  std::vector<Tensor> apply(const std::vector<Tensor>& grad_outputs);
  // Frees the closure and everything it saved (after a backward without retain_graph).
  // A node whose closure holds no tensors (split's, unbind's: only shapes) is
  // kept, so that pieces of one split may each get their own backward.
  void release() {
    if (reusable_) return;
    backward_ = nullptr;
    released_ = true;
  }
  void set_reusable() { reusable_ = true; }

 private:
  struct Watched {
    std::weak_ptr<Storage> storage;
    std::uint64_t version;
  };
  std::string name_;
  std::vector<Edge> edges_;
  std::vector<Watched> watched_;
  MultiBackwardFn backward_;
  std::uint32_t num_outputs_ = 1;
  bool released_ = false;
  bool reusable_ = false;
};

// True when grad mode is on and any input requires grad: the op must record.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Makes `output` the result of a recorded op when needs_grad(inputs); returns it.
// The closure runs later with grad mode off; it should capture detached
// tensors (save()) so that no tensor holds its own node.
// `saved`: tensors without a gradient that the closure reads (an index, a mask),
// watched for in-place writes like the inputs.
Tensor record(const char* name, Tensor output, const std::vector<Tensor>& inputs, BackwardFn backward,
              const std::vector<Tensor>& saved = {});

// record() for an op with several outputs: output i becomes output i of one node.
std::vector<Tensor> record_outputs(const char* name, std::vector<Tensor> outputs, const std::vector<Tensor>& inputs,
                                   MultiBackwardFn backward, const std::vector<Tensor>& saved = {});

// The form to capture a tensor in a backward closure: same data, no history.
inline Tensor save(const Tensor& t) { return t.defined() ? t.detach() : t; }

}  // namespace cortex::autograd
