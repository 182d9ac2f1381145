// Recording ops on the tape.
#include "cortex/autograd/node.h"

#include "cortex/autograd/grad_mode.h"

namespace cortex::autograd {

Node::Node(std::string name, const std::vector<Tensor>& inputs, const Tensor& output, BackwardFn backward,
           const std::vector<Tensor>& saved)
    : Node(std::move(name), inputs, std::vector<Tensor>{output},
           [fn = std::move(backward)](const std::vector<Tensor>& g) { return fn(g[0]); }, saved) {}

Node::Node(std::string name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
           MultiBackwardFn backward, const std::vector<Tensor>& saved)
    : name_(std::move(name)), backward_(std::move(backward)), num_outputs_(static_cast<std::uint32_t>(outputs.size())) {
  edges_.reserve(inputs.size());
  for (const Tensor& out : outputs) watched_.push_back({out.storage(), out.storage()->version()});
  for (const Tensor& t : saved)
    if (t.defined()) watched_.push_back({t.storage(), t.storage()->version()});
  for (const Tensor& in : inputs) {
    if (in.defined()) watched_.push_back({in.storage(), in.storage()->version()});
    Edge e;
    if (in.defined()) {
      e.shape = in.shape();
      e.dtype = in.dtype();
      e.device = in.device();
      if (in.requires_grad()) {
        if (in.grad_fn()) {
          e.node = in.grad_fn();
          e.output_nr = in.output_nr();
        } else {
          e.leaf = in.impl_ptr();
        }
      }
    }
    edges_.push_back(std::move(e));
  }
}

Node::~Node() {
  // Take over the edges of every node that dies with this one, so their
  // destructors run one after another instead of nested.
  std::vector<std::shared_ptr<Node>> dying;
  for (auto& e : edges_)
    if (e.node) dying.push_back(std::move(e.node));
  while (!dying.empty()) {
    std::shared_ptr<Node> n = std::move(dying.back());
    dying.pop_back();
    if (n.use_count() == 1)
      for (auto& e : n->edges_)
        if (e.node) dying.push_back(std::move(e.node));
  }
}

std::vector<Tensor> Node::apply(const std::vector<Tensor>& grad_outputs) {
  if (released_)
    fail<AutogradError>("backward through ", name_,
                        " a second time: its saved tensors were freed by the first backward "
                        "(pass retain_graph = true to the first call)");
  for (const auto& w : watched_) {
    auto s = w.storage.lock();
    if (s && s->version() != w.version)
      fail<AutogradError>(name_, " backward needs a tensor that was modified in place (copy_ or fill_) after ",
                          name_, " ran; its gradient would be wrong. Modify a clone, or run backward first");
  }
  return backward_(grad_outputs);
}

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->requires_grad()) return true;
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.requires_grad()) return true;
  return false;
}

Tensor record(const char* name, Tensor output, const std::vector<Tensor>& inputs, BackwardFn backward,
              const std::vector<Tensor>& saved) {
  if (!needs_grad(inputs)) return output;
  output.set_grad_fn(std::make_shared<Node>(name, inputs, output, std::move(backward), saved));
  return output;
}

std::vector<Tensor> record_outputs(const char* name, std::vector<Tensor> outputs, const std::vector<Tensor>& inputs,
                                   MultiBackwardFn backward, const std::vector<Tensor>& saved) {
  if (!needs_grad(inputs)) return outputs;
  auto node = std::make_shared<Node>(name, inputs, outputs, std::move(backward), saved);
  for (std::size_t i = 0; i < outputs.size(); ++i) outputs[i].set_grad_fn(node, static_cast<std::uint32_t>(i));
  return outputs;
}

}  // namespace cortex::autograd
