// Recording ops on the tape.
#include "cortex/autograd/node.h"

#include "cortex/autograd/grad_mode.h"

namespace cortex::autograd {

Node::Node(std::string name, const std::vector<Tensor>& inputs, const Tensor& output, BackwardFn backward,
           const std::vector<Tensor>& saved)
    : name_(std::move(name)), backward_(std::move(backward)) {
  edges_.reserve(inputs.size());
  watched_.push_back({output.storage(), output.storage()->version()});
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
        if (in.grad_fn()) e.node = in.grad_fn();
        else e.leaf = in.impl_ptr();
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

std::vector<Tensor> Node::apply(const Tensor& grad_output) {
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
  return backward_(grad_output);
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

}  // namespace cortex::autograd
