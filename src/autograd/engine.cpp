// Backward: count each node's consumers, then run nodes once all their
// output gradient has arrived. Gradients are summed with the add kernel.
#include "cortex/core/profiler.h"
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

void check_grad(const Tensor& g, const Shape& shape, DType dtype, Device device, const std::string& where) {
  if (g.shape() != shape || g.dtype() != dtype || g.device() != device)
    fail<AutogradError>(where, " produced a gradient of shape ", shape_str(g.shape()), " ",
                        dtype_name(g.dtype()), " on ", g.device().str(), " for an input of shape ", shape_str(shape),
                        " ", dtype_name(dtype), " on ", device.str());
}

Tensor copy(const Tensor& g) {
  Tensor out = Tensor::empty(g.shape(), g.dtype(), g.device());
  backend::dispatch(&Kernels::copy, g.device(), "copy")(g, out);
  return out;
}

// .grad() is always a tensor of its own (never shared with another leaf, the
// user or a view), and a fresh one on each accumulation, so a gradient the
// user kept never changes. `g` may be taken as is only when nothing else
// holds it or its storage: the caller's handle is the last one.
void accumulate_leaf(const std::shared_ptr<TensorImpl>& leaf, Tensor g) {
  Tensor t(leaf);
  if (!t.requires_grad()) return;  // switched off after the op was recorded
  Tensor old = t.grad();
  bool owned = g.impl_ptr().use_count() == 1 && g.storage().use_count() == 1 && g.is_contiguous() &&
               g.offset() == 0 && g.storage()->nbytes() == g.numel() * element_size(g.dtype()) &&
               !g.impl()->autograd;
  t.set_grad(old.defined() ? add(old, g) : owned ? std::move(g) : copy(g));
}

}  // namespace

void backward(const Tensor& root, const Tensor& grad_in, bool retain_graph) {
  if (!root.defined()) fail<AutogradError>("backward called on an undefined tensor");
  if (!root.requires_grad())
    fail<AutogradError>("backward called on a tensor that does not require grad "
                        "(no input of the computation had requires_grad set, or it ran under NoGradGuard)");
  Tensor grad = grad_in.defined() ? grad_in.detach() : grad_in;
  if (!grad.defined()) {
    if (root.numel() != 1)
      fail<AutogradError>("backward without a gradient needs a one-element output, got shape ",
                          shape_str(root.shape()), "; pass a gradient of that shape");
    grad = ones(root.shape(), root.dtype(), root.device());
  }
  check_grad(grad, root.shape(), root.dtype(), root.device(), "the gradient passed to backward");

  NoGradGuard no_grad;
  if (!root.grad_fn()) {  // a leaf: its gradient is (a copy of) the one given
    accumulate_leaf(root.impl_ptr(), grad_in.defined() ? copy(grad) : grad);
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

  // Pass 2: run each node when its gradient is complete. A node that is reached
  // but receives no gradient is skipped, and so are the edges below it.
  // Each node's gradients, one per output, summed as they arrive.
  std::unordered_map<Node*, std::vector<Tensor>> buffer;
  std::vector<std::shared_ptr<Node>> ready{root.grad_fn()};
  {
    auto& slots = buffer[root.grad_fn().get()];
    slots.resize(root.grad_fn()->num_outputs());
    slots.at(root.output_nr()) = grad;
  }
  std::vector<Node*> skipped;
  auto arrived = [&](const std::shared_ptr<Node>& next) {
    if (--pending[next.get()] > 0) return;
    if (buffer.count(next.get())) ready.push_back(next);
    else skipped.push_back(next.get());
  };
  while (!ready.empty() || !skipped.empty()) {
    if (ready.empty()) {
      Node* node = skipped.back();
      skipped.pop_back();
      if (!retain_graph) node->release();
      for (const auto& e : node->edges())
        if (e.node) arrived(e.node);
      continue;
    }
    std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    std::vector<Tensor> g = std::move(buffer[node.get()]);
    buffer.erase(node.get());
    std::vector<Tensor> grads;
    {
      profiler::Scope scope(profiler::enabled() ? node->name() + " backward" : std::string());
      grads = node->apply(g);
    }
    g.clear();
    if (!retain_graph) node->release();
    const auto& edges = node->edges();
    if (grads.size() != edges.size())
      fail<AutogradError>(node->name(), " backward returned ", grads.size(), " gradients for ",
                          edges.size(), " inputs");
    for (std::size_t i = 0; i < edges.size(); ++i) {
      const auto& e = edges[i];
      if (!e.node && !e.leaf) continue;
      if (grads[i].defined()) {
        check_grad(grads[i], e.shape, e.dtype, e.device, node->name() + " backward");
        if (e.leaf) {
          accumulate_leaf(e.leaf, std::move(grads[i]));
        } else {
          auto& slots = buffer[e.node.get()];
          slots.resize(e.node->num_outputs());
          Tensor& slot = slots.at(e.output_nr);
          slot = slot.defined() ? add(slot, grads[i]) : std::move(grads[i]);
        }
      }
      if (e.node) arrived(e.node);
    }
  }
}

}  // namespace cortex::autograd

namespace cortex {
void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  autograd::backward(*this, grad, retain_graph);
}
}  // namespace cortex
