// The functional API: symbolic calls build a graph of GraphNodes; Functional
// names its layers, checks the graph, runs it and saves it as JSON.
#include "cortex/nn/functional.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cortex/autograd/grad_mode.h"
#include "cortex/io/json_depth.h"
#include "cortex/nn/layers.h"
#include "cortex/nn/sequential.h"
#include "cortex/ops/creation.h"
#include "summary_table.h"

namespace cortex::nn {

std::string shape_text(const Shape& per_sample) {
  std::string out = "(None";
  for (auto d : per_sample) out += ", " + (d < 0 ? std::string("None") : std::to_string(d));
  return out + ")";
}

namespace {

std::atomic<std::uint64_t> next_node_id{1};

// A probe batch of one sample for a symbolic input, its free axes at `free_size`.
Tensor probe(const Symbolic& s, std::int64_t free_size) {
  Shape shape{1};
  for (auto d : s.shape()) shape.push_back(d < 0 ? free_size : d);
  return zeros(shape, s.dtype());
}

// The layer's outputs on probes (masks too: an Embedding's flows on to the next layer).
std::vector<Tensor> run_probe(Module& layer, const std::vector<Symbolic>& inputs, std::int64_t free_size) {
  Call c;
  for (const auto& in : inputs) c.inputs.push_back(probe(in, free_size));
  return layer.call(c).tensors;
}

}  // namespace

const Shape& Symbolic::shape() const {
  if (!node_) fail<ValueError>("an undefined symbolic tensor has no shape");
  return node_->shapes.at(index_);
}

DType Symbolic::dtype() const {
  if (!node_) fail<ValueError>("an undefined symbolic tensor has no dtype");
  return node_->dtypes.at(index_);
}

std::string Symbolic::describe() const {
  if (!node_) return "(undefined)";
  const std::string name = node_->layer ? node_->layer->name() : node_->input_name;
  return name + "[" + std::to_string(node_->call) + "][" + std::to_string(index_) + "]";
}

Input::Input(Shape shape, std::string name, DType dtype) : Symbolic(std::make_shared<GraphNode>(), 0) {
  for (auto d : shape)
    if (d == 0 || d < -1)
      fail<ValueError>("Input expects sizes >= 1 (or -1 for any size), got ", shape_str(shape));
  GraphNode& n = *node();
  n.shapes = {std::move(shape)};
  n.dtypes = {dtype};
  n.input_name = std::move(name);
  n.id = next_node_id++;
}

std::vector<Symbolic> call_symbolic(const std::shared_ptr<Module>& layer, const std::vector<Symbolic>& inputs) {
  if (inputs.empty()) fail<ValueError>(layer->type(), " '", layer->name(), "' was called without inputs");
  std::string given;
  for (const auto& in : inputs) {
    if (!in.defined()) fail<ValueError>(layer->type(), " '", layer->name(), "' was called on an undefined symbolic tensor");
    given += (given.empty() ? "" : ", ") + shape_text(in.shape());
  }
  auto node = std::make_shared<GraphNode>();
  node->layer = layer;
  node->inputs = inputs;
  // An unbuilt layer is probed through a twin made from its config, so that
  // its own weights are drawn later, from the model's generator (Model sets it
  // after the graph is made). A layer the registry does not know is probed itself.
  std::shared_ptr<Module> probed = layer;
  if (!layer->built()) {
    try {
      probed = layer_from_config(layer->type(), layer->config_json());
    } catch (const ValueError&) {
      probed = layer;
    }
  }
  {
    NoGradGuard no_grad;
    const bool was_training = probed->is_training();
    probed->eval();
    try {
      std::vector<Tensor> one = run_probe(*probed, inputs, 1), two;
      const bool free = std::any_of(inputs.begin(), inputs.end(), [](const Symbolic& s) {
        return std::any_of(s.shape().begin(), s.shape().end(), [](auto d) { return d < 0; });
      });
      if (free) two = run_probe(*probed, inputs, 2);
      for (std::size_t i = 0; i < one.size(); ++i) {
        Shape s(one[i].shape().begin() + (one[i].dim() > 0 ? 1 : 0), one[i].shape().end());
        // An axis that follows a free input axis is free too.
        if (free)
          for (std::size_t d = 0; d < s.size(); ++d)
            if (two[i].shape()[d + 1] != one[i].shape()[d + 1]) s[d] = -1;
        node->shapes.push_back(s);
        node->dtypes.push_back(one[i].dtype());
      }
    } catch (const Error& e) {
      probed->reset_states();
      probed->train(was_training);
      fail<ShapeError>(layer->type(), " '", layer->name(), "' cannot be called on ", given, ": ", e.what());
    }
    probed->reset_states();  // a stateful layer probed itself keeps nothing of the probe
    probed->train(was_training);
  }
  node->id = next_node_id++;
  std::vector<Symbolic> out;
  for (std::size_t i = 0; i < node->shapes.size(); ++i) out.emplace_back(node, static_cast<int>(i));
  return out;
}

// ---- the symbolic call operators of Module ----

namespace {
// The layer itself, shared: it must already be held by a std::shared_ptr.
std::shared_ptr<Module> shared_layer(Module& m) {
  std::shared_ptr<Module> self = m.weak_from_this().lock();
  if (!self)
    fail<ValueError>(m.type(), " '", m.name(), "' is called on a symbolic tensor but is not held by a std::shared_ptr; "
                     "make it with std::make_shared<", m.type(), ">(...) to call it (and share its weights), or call "
                     "a temporary: ", m.type(), "({...})(x)");
  return self;
}

// A temporary's twin made from its config, so that the graph can keep it.
std::shared_ptr<Module> moved_layer(Module& m) {
  std::shared_ptr<Module> self = m.weak_from_this().lock();
  if (self) return self;
  std::shared_ptr<Module> twin = layer_from_config(m.type(), m.config_json());
  if (m.has_given_name()) twin->set_name(m.name());
  if (m.built()) {
    fail<ValueError>(m.type(), " '", m.name(), "' is built already: hold it in a std::shared_ptr to call it on "
                     "symbolic tensors, so that the graph uses its weights");
  }
  return twin;
}
}  // namespace

Symbolic Module::operator()(const Symbolic& x) & { return call_symbolic(shared_layer(*this), {x}).at(0); }
Symbolic Module::operator()(const Symbolic& x) && { return call_symbolic(moved_layer(*this), {x}).at(0); }
Symbolics Module::operator()(const std::vector<Symbolic>& xs) & { return call_symbolic(shared_layer(*this), xs); }
Symbolics Module::operator()(const std::vector<Symbolic>& xs) && { return call_symbolic(moved_layer(*this), xs); }

Symbolics::operator Symbolic() const {
  if (size() != 1)
    fail<ValueError>("a call that gives ", size(), " symbolic tensors stands where one is expected; pick one: outputs[0]");
  return front();
}

// ---- Functional ----

Functional::Functional(std::vector<Symbolic> inputs, std::vector<Symbolic> outputs, std::string name)
    : Module("Functional"), inputs_(std::move(inputs)), outputs_(std::move(outputs)) {
  set_name(std::move(name));
  if (inputs_.empty() || outputs_.empty())
    fail<ValueError>("a functional model expects at least one input and one output, got ", inputs_.size(), " and ",
                     outputs_.size());
  std::set<const GraphNode*> input_nodes;
  for (const auto& in : inputs_) {
    if (!in.defined() || in.node()->layer)
      fail<ValueError>("a functional model's inputs must be Input(...) tensors, got ", in.describe());
    if (!input_nodes.insert(in.node().get()).second)
      fail<ValueError>("a functional model lists the input '", in.describe(), "' twice");
  }
  // Every node the outputs need, found from the outputs back to the inputs.
  std::map<std::uint64_t, std::shared_ptr<GraphNode>> found;
  for (const auto& in : inputs_) found[in.node()->id] = in.node();  // an input nothing uses is still saved
  std::vector<std::pair<std::shared_ptr<GraphNode>, std::string>> stack;  // node, the layer that needs it
  for (const auto& out : outputs_) {
    if (!out.defined()) fail<ValueError>("a functional model's outputs must be defined symbolic tensors");
    stack.emplace_back(out.node(), "the outputs");
  }
  while (!stack.empty()) {
    auto [n, needed_by] = stack.back();
    stack.pop_back();
    if (!n->layer && !input_nodes.count(n.get()))
      fail<ValueError>("the graph needs the Input '", n->input_name.empty() ? "(unnamed)" : n->input_name, "' ",
                       shape_text(n->shapes[0]), " (for ", needed_by, ") but it is not among the model's inputs");
    if (!found.emplace(n->id, n).second) continue;
    for (const auto& in : n->inputs) stack.emplace_back(in.node(), n->layer->name());
  }
  // Creation order is an order where each node follows its inputs.
  for (auto& [id, n] : found) nodes_.push_back(n);
  // Keras's names: given ones kept (and unique), the others "dense", "dense_1", ...
  std::set<std::string> names;
  for (const auto& in : inputs_)
    if (!in.node()->input_name.empty()) names.insert(in.node()->input_name);
  for (auto& n : nodes_) {
    if (!n->layer) continue;
    if (std::find(layers_.begin(), layers_.end(), n->layer) == layers_.end()) {
      Module& m = *n->layer;
      if (m.has_given_name()) {
        if (!names.insert(m.name()).second)
          fail<ValueError>("a functional model has two layers named '", m.name(), "'; layer names must be unique");
      } else {
        const std::string name =
            detail::unique_name(snake_case(m.type()), [&](const std::string& n) { return names.count(n) > 0; });
        names.insert(name);
        m.set_name(name);
      }
      layers_.push_back(n->layer);
      register_module(m.name(), n->layer);
    }
  }
  // Which call of its layer each node is, in creation order; Inputs get a name if they lack one.
  std::map<const Module*, int> calls;
  for (auto& n : nodes_) {
    if (n->layer) n->call = calls[n->layer.get()]++;
    else if (n->input_name.empty()) {
      n->input_name = detail::unique_name("input", [&](const std::string& name) { return names.count(name) > 0; });
      names.insert(n->input_name);
    }
  }
}

void Functional::build_impl(const Shape&) {
  // One sample through the graph in evaluation mode builds every layer (drawing
  // its weights from the generator the model gave it) without random draws.
  NoGradGuard no_grad;
  const bool was_training = is_training();
  eval();
  Call c;
  for (const auto& in : inputs_) c.inputs.push_back(probe(in, 1).to(device()));
  call_impl(c);
  reset_states();  // the probe's states are nobody's
  train(was_training);
}

Outputs Functional::call_impl(const Call& c) { return run(c, {}); }

std::string Functional::output_activation(std::size_t i) const {
  const GraphNode* node = outputs_.at(i).node().get();
  auto* activated = node->layer ? dynamic_cast<const Activated*>(node->layer.get()) : nullptr;
  if (activated == nullptr || node->inputs.size() != 1 || node->shapes.size() != 1) return "";
  std::size_t readers = 0;
  for (const auto& o : outputs_) readers += o.node().get() == node;
  for (const auto& n : nodes_)
    for (const auto& in : n->inputs) readers += in.node().get() == node;
  return readers == 1 ? activated->activation() : "";
}

Outputs Functional::call_logits(const Call& c, const std::vector<bool>& logits) {
  if (logits.size() != outputs_.size())
    fail<ValueError>("functional model '", name(), "' has ", outputs_.size(), " output(s), got ", logits.size(),
                     " logits flags");
  std::vector<const GraphNode*> linear;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (!logits[i]) continue;
    if (output_activation(i).empty())
      fail<ValueError>("functional model '", name(), "': output ", i, " has no activation of its own to leave out");
    linear.push_back(outputs_[i].node().get());
  }
  if (!built()) build({});
  return run(c, linear);
}

Outputs Functional::run(const Call& c, const std::vector<const GraphNode*>& linear) {
  if (c.inputs.size() != inputs_.size())
    fail<ValueError>("functional model '", name(), "' expects ", inputs_.size(), " input(s), got ", c.inputs.size());
  if (!c.initial_state.empty())
    fail<ValueError>("functional model '", name(), "' takes no initial state; make the states Inputs of the model");
  std::map<const GraphNode*, Outputs> values;
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    const Shape& want = inputs_[i].shape();
    const Tensor& x = c.inputs[i];
    bool fits = x.dim() == static_cast<std::int64_t>(want.size()) + 1;
    for (std::size_t d = 0; fits && d < want.size(); ++d) fits = want[d] < 0 || want[d] == x.shape()[d + 1];
    if (!fits)
      fail<ShapeError>("functional model '", name(), "' expects input '", inputs_[i].node()->input_name,
                       "' of shape ", shape_text(want), ", got ", shape_str(x.shape()));
    values[inputs_[i].node().get()] = {{x}, {c.masks.empty() ? Tensor() : c.masks[i]}};
  }
  for (const auto& n : nodes_) {
    if (!n->layer) continue;
    Call call;
    for (const auto& in : n->inputs) {
      const Outputs& v = values.at(in.node().get());
      call.inputs.push_back(v.tensors.at(in.index()));
      call.masks.push_back(v.masks.at(in.index()));
    }
    if (std::none_of(call.masks.begin(), call.masks.end(), [](const Tensor& m) { return m.defined(); })) call.masks.clear();
    if (std::find(linear.begin(), linear.end(), n.get()) != linear.end()) {
      // The layer's output before its activation; its mask passes as call() would pass it.
      Tensor mask = call.masks.empty() ? Tensor() : call.masks[0];
      if (mask.defined() && !n->layer->supports_masking()) fail_unsupported_mask(*n->layer);
      values[n.get()] = {{static_cast<Activated&>(*n->layer).call_linear(call.inputs[0])}, {mask}};
      continue;
    }
    values[n.get()] = n->layer->call(call);
  }
  Outputs out;
  for (const auto& o : outputs_) {
    const Outputs& v = values.at(o.node().get());
    out.tensors.push_back(v.tensors.at(o.index()));
    out.masks.push_back(v.masks.at(o.index()));
  }
  return out;
}

using detail::pad;
using detail::with_commas;

std::string Functional::summary() {
  if (!built()) build({});
  std::ostringstream out;
  std::string line(98, '_'), thick(98, '=');
  out << "Model: \"" << name() << "\"\n" << line << "\n";
  out << pad(" Layer (type)", 29) << pad("Output Shape", 26) << pad("Param #", 11) << "Connected to\n" << thick << "\n";
  std::int64_t trainable = 0, frozen = 0;
  std::set<const Module*> counted;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const GraphNode& n = *nodes_[i];
    std::string shapes;
    for (const auto& s : n.shapes) shapes += (shapes.empty() ? "" : ", ") + shape_text(s);
    if (n.shapes.size() > 1) shapes = "[" + shapes + "]";
    std::int64_t params = 0;
    std::string label = n.layer ? n.layer->name() + " (" + n.layer->type() + ")" : n.input_name + " (InputLayer)";
    if (n.layer && counted.insert(n.layer.get()).second) {
      for (auto& [k, t] : n.layer->named_parameters()) params += t.numel();
      std::int64_t b = 0;
      for (auto& [k, t] : n.layer->named_buffers()) b += t.numel();
      trainable += params;
      frozen += b;
      params += b;
    }
    std::vector<std::string> from;
    for (const auto& in : n.inputs) from.push_back(in.describe());
    out << pad(" " + label, 29) << pad(shapes, 26) << pad(with_commas(params), 11) << (from.empty() ? "[]" : from[0])
        << "\n";
    for (std::size_t k = 1; k < from.size(); ++k) out << std::string(29 + 26 + 11, ' ') << from[k] << "\n";
    if (i + 1 < nodes_.size()) out << "\n";
  }
  out << thick << "\n";
  out << "Total params: " << with_commas(trainable + frozen) << "\n";
  out << "Trainable params: " << with_commas(trainable) << "\n";
  out << "Non-trainable params: " << with_commas(frozen) << "\n" << line << "\n";
  return out.str();
}

// ---- the graph as JSON (Keras's schema) ----

namespace {
nlohmann::json ref(const Symbolic& s) {
  const GraphNode& n = *s.node();
  return nlohmann::json::array({n.layer ? n.layer->name() : n.input_name, n.call, s.index()});
}
}  // namespace

std::string Functional::graph_json() const {
  nlohmann::json layers = nlohmann::json::array();
  std::map<const Module*, std::size_t> at;
  for (const auto& n : nodes_) {
    if (!n->layer) {
      layers.push_back({{"class_name", "InputLayer"},
                        {"name", n->input_name},
                        {"config", {{"shape", n->shapes[0]}, {"dtype", dtype_name(n->dtypes[0])}}},
                        {"inbound_nodes", nlohmann::json::array()}});
      continue;
    }
    auto [it, fresh] = at.try_emplace(n->layer.get(), layers.size());
    if (fresh)
      layers.push_back({{"class_name", n->layer->type()},
                        {"name", n->layer->name()},
                        {"config", nlohmann::json::parse(n->layer->config_json())},
                        {"inbound_nodes", nlohmann::json::array()}});
    nlohmann::json call = nlohmann::json::array();
    for (const auto& in : n->inputs) call.push_back(ref(in));
    layers[it->second]["inbound_nodes"].push_back(call);
  }
  nlohmann::json ins = nlohmann::json::array(), outs = nlohmann::json::array();
  for (const auto& i : inputs_) ins.push_back(ref(i));
  for (const auto& o : outputs_) outs.push_back(ref(o));
  return nlohmann::json{{"class_name", "Functional"},
                        {"name", name()},
                        {"layers", layers},
                        {"input_layers", ins},
                        {"output_layers", outs}}
      .dump();
}

std::shared_ptr<Functional> Functional::from_graph_json(const std::string& text) {
  try {
    const nlohmann::json g = io::parse_json<nlohmann::json>(text, 64, "the functional graph");
    // Each layer's symbolic outputs per call, filled as the calls become possible.
    std::map<std::string, std::vector<std::vector<Symbolic>>> made;
    std::map<std::string, std::shared_ptr<Module>> layers;
    std::vector<Symbolic> inputs;
    auto lookup = [&](const nlohmann::json& r) -> const Symbolic* {
      auto it = made.find(r.at(0).get<std::string>());
      const auto call = r.at(1).get<std::size_t>(), index = r.at(2).get<std::size_t>();
      if (it == made.end() || call >= it->second.size()) return nullptr;
      if (index >= it->second[call].size())
        fail<ValueError>("the functional graph refers to output ", index, " of '", r.at(0).get<std::string>(),
                         "', which has ", it->second[call].size());
      return &it->second[call][index];
    };
    for (const auto& l : g.at("layers")) {
      const std::string name = l.at("name"), type = l.at("class_name");
      if (type == "InputLayer") {
        made[name].push_back({Input(l.at("config").at("shape").get<Shape>(), name,
                                    dtype_from_name(l.at("config").value("dtype", "f32")))});
      } else {
        auto layer = layer_from_config(type, l.at("config").dump());
        layer->set_name(name);
        layers[name] = layer;
      }
    }
    // Calls run once their inputs exist; a pass that makes none means the graph is broken.
    // (layer, which call, its inputs): call k of a layer is made only after calls 0 .. k-1,
    // so that "lstm[1][0]" means the same call it meant when saved.
    struct Pending {
      std::string name;
      std::size_t call;
      nlohmann::json inputs;
    };
    std::vector<Pending> pending;
    for (const auto& l : g.at("layers")) {
      std::size_t k = 0;
      for (const auto& call : l.at("inbound_nodes")) pending.push_back({l.at("name"), k++, call});
    }
    for (std::size_t done_before = pending.size() + 1; !pending.empty() && pending.size() < done_before;) {
      done_before = pending.size();
      for (auto it = pending.begin(); it != pending.end();) {
        std::vector<Symbolic> ins;
        auto& calls = made[it->name];
        bool ready = calls.size() == it->call;
        for (const auto& r : it->inputs) {
          const Symbolic* s = ready ? lookup(r) : nullptr;
          if (!s) { ready = false; break; }
          ins.push_back(*s);
        }
        if (ready) {
          calls.push_back(call_symbolic(layers.at(it->name), ins));
          it = pending.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (!pending.empty())
      fail<ValueError>("the functional graph cannot be rebuilt: the call of '", pending.front().name,
                       "' needs tensors no layer makes (a cycle, or a missing layer)");
    std::vector<Symbolic> outs;
    for (const auto& key : {"input_layers", "output_layers"})
      for (const auto& r : g.at(key)) {
        const Symbolic* s = lookup(r);
        if (!s) fail<ValueError>("the functional graph's ", key, " name ", r.dump(), ", which no layer makes");
        (std::string(key) == "input_layers" ? inputs : outs).push_back(*s);
      }
    return std::make_shared<Functional>(inputs, outs, g.value("name", "functional"));
  } catch (const nlohmann::json::exception& e) {
    fail<ValueError>("bad functional graph (", e.what(), ")");
  }
}

}  // namespace cortex::nn
