// Backward: count each node's consumers, then run nodes once all their
// output gradient has arrived. Gradients are summed with the add kernel.
#include "cortex/autograd/engine.h"

#include <unordered_map>
#include <vector>

#include "cortex/autograd/grad_mode.h"
#include "cortex/autograd/node.h"
#include "cortex/backends/kernels.h"

namespace cortex::autograd {
namespace {

using backend::BinaryOp;
using backend::Kernels;

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  backend::dispatch(&Kernels::binary, a.device(), "add")(BinaryOp::add, a, b, out);
  return out;
}

Tensor ones(const Shape& shape, DType dtype, Device device) {
  Tensor out = Tensor::empty(shape, dtype, device);
  backend::dispatch(&Kernels::fill, device, "fill")(out, 1.0);
  return out;
}

void check_grad(const Tensor& g, const Shape& shape, DType dtype, const std::string& where) {
  if (g.shape() != shape || g.dtype() != dtype)
    fail<AutogradError>(where, " produced a gradient of shape ", shape_str(g.shape()), " ",
                        dtype_name(g.dtype()), " for an input of shape ", shape_str(shape), " ",
                        dtype_name(dtype));
}

Tensor copy(const Tensor& g) {
  Tensor out = Tensor::empty(g.shape(), g.dtype(), g.device());
  backend::dispatch(&Kernels::copy, g.device(), "copy")(g, out);
  return out;
}

// .grad() is always a tensor of its own (never a view of another gradient), and
// a fresh one on each accumulation, so a gradient the user kept never changes.
void accumulate_leaf(const std::shared_ptr<TensorImpl>& leaf, const Tensor& g) {
  Tensor t(leaf);
  Tensor old = t.grad();
  bool owned = g.is_contiguous() && g.offset() == 0 && g.storage().use_count() == 1 &&
               g.storage()->nbytes() == g.numel() * element_size(g.dtype());
  t.set_grad(old.defined() ? add(old, g) : owned ? g : copy(g));
}

}  // namespace

void backward(const Tensor& root, const Tensor& grad_in, bool retain_graph) {
  if (!root.defined()) fail<AutogradError>("backward called on an undefined tensor");
  if (!root.requires_grad())
    fail<AutogradError>("backward called on a tensor that does not require grad "
                        "(no input of the computation had requires_grad set, or it ran under NoGradGuard)");
  Tensor grad = grad_in;
  if (!grad.defined()) {
    if (root.numel() != 1)
      fail<AutogradError>("backward without a gradient needs a one-element output, got shape ",
                          shape_str(root.shape()), "; pass a gradient of that shape");
    grad = ones(root.shape(), root.dtype(), root.device());
  }
  check_grad(grad, root.shape(), root.dtype(), "the gradient passed to backward");

  NoGradGuard no_grad;
  if (!root.grad_fn()) {  // a leaf: its gradient is the one given
    accumulate_leaf(root.impl_ptr(), grad);
    return;
  }

  // Pass 1: how many edges point at each reachable node.
  std::unordered_map<Node*, int> pending;
  std::vector<Node*> stack{root.grad_fn().get()};
  pending[root.grad_fn().get()] = 0;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const auto& e : n->edges()) {
      if (!e.node) continue;
      auto [it, fresh] = pending.try_emplace(e.node.get(), 0);
      ++it->second;
      if (fresh) stack.push_back(e.node.get());
    }
  }

  // Pass 2: run each node when its gradient is complete.
  std::unordered_map<Node*, Tensor> buffer;
  std::vector<std::shared_ptr<Node>> ready{root.grad_fn()};
  buffer[root.grad_fn().get()] = grad;
  while (!ready.empty()) {
    std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    Tensor g = std::move(buffer[node.get()]);
    buffer.erase(node.get());
    std::vector<Tensor> grads = node->apply(g);
    if (!retain_graph) node->release();
    const auto& edges = node->edges();
    if (grads.size() != edges.size())
      fail<AutogradError>(node->name(), " backward returned ", grads.size(), " gradients for ",
                          edges.size(), " inputs");
    for (std::size_t i = 0; i < edges.size(); ++i) {
      const auto& e = edges[i];
      if (!e.node && !e.leaf) continue;
      const Tensor& gi = grads[i];
      if (gi.defined()) {
        check_grad(gi, e.shape, e.dtype, node->name() + " backward");
        if (e.leaf) {
          accumulate_leaf(e.leaf, gi);
        } else {
          Tensor& slot = buffer[e.node.get()];
          slot = slot.defined() ? add(slot, gi) : gi;
        }
      }
      if (e.node && --pending[e.node.get()] == 0) {
        if (buffer.count(e.node.get())) ready.push_back(e.node);
        else if (!retain_graph) e.node->release();  // reached, but no gradient flows there
      }
    }
  }
}

}  // namespace cortex::autograd

namespace cortex {
void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  autograd::backward(*this, grad, retain_graph);
}
}  // namespace cortex
