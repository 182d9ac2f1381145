// model.cortex: weights, optimizer state and training state as safetensors,
// the architecture and compile settings as JSON in __metadata__.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

#include "cortex/io/json_depth.h"
#include "cortex/io/tensor_file.h"
#include "cortex/ops/creation.h"
#include "cortex/train/model.h"

namespace cortex::train {
namespace {
// 2: parameters named by their layer ("conv2d.kernel"); 1: by position ("0.kernel"), still read.
constexpr const char* kFormat = "cortex-model-2";
constexpr const char* kFormatByPosition = "cortex-model-1";

bool known_format(const std::string& f) { return f == kFormat || f == kFormatByPosition; }
}

void Model::ensure_built(const char* what) {
  if (auto* graph = dynamic_cast<nn::Functional*>(net_.get()); graph && !graph->built()) graph->build({});
  if (net_->built()) return;
  const std::optional<Shape> in = input_shape();
  if (!in) fail<ValueError>(what, " needs a built model or one with an Input shape");
  Shape s{1};
  s.insert(s.end(), in->begin(), in->end());
  net_->build(s);
  if (optimizer_ && optimizer_->params().empty()) optimizer_->set_params(net_->parameters());
}

void Model::save(const std::string& path) {
  ensure_built("save");  // a model saved before it ran still has its weights in the file
  nlohmann::json arch;
  if (auto* seq = dynamic_cast<const nn::Sequential*>(net_.get())) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : seq->layers())
      layers.push_back({{"type", l->type()}, {"name", l->name()}, {"config", nlohmann::json::parse(l->config_json())}});
    arch = {{"layers", layers}};
    if (seq->input_shape()) arch["input_shape"] = *seq->input_shape();
  } else if (auto* f = dynamic_cast<const nn::Functional*>(net_.get())) {
    arch = nlohmann::json::parse(f->graph_json());
  } else {
    fail<ValueError>("save needs a Sequential or functional model (their architecture can be written); this one is a ",
                     net_->type(), ": save its weights with io::save_tensors(path, network().state_dict())");
  }
  nlohmann::json compile{{"loss", losses_.front().name}, {"metrics", metrics_}};
  if (losses_.size() > 1 || std::any_of(loss_weights_.begin(), loss_weights_.end(), [](double w) { return w != 1.0; })) {
    std::vector<std::string> names;
    for (const auto& l : losses_) names.push_back(l.name);
    compile["losses"] = names;
    compile["loss_weights"] = loss_weights_;
  }
  if (optimizer_) compile["optimizer"] = nlohmann::json::parse(optimizer_->config_json());
  nlohmann::json state{{"epoch", epoch_}, {"seed", gen_->seed()}, {"offset", gen_->offset()}};

  // The file holds host copies, whatever device the model is on.
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (auto& [n, t] : net_->state_dict()) tensors.emplace_back("model." + n, t.detach().to(Device::cpu()));
  if (optimizer_ && !optimizer_->params().empty())
    for (auto& [n, t] : optimizer_->state()) tensors.emplace_back("optimizer." + n, t.to(Device::cpu()));
  std::map<std::string, std::string> meta{{"format", kFormat},
                                          {"architecture", arch.dump()},
                                          {"compile", compile.dump()},
                                          {"training_state", state.dump()}};
  if (!metadata_.empty()) meta["user_metadata"] = nlohmann::json(metadata_).dump();
  io::save_tensors(path, tensors, meta);
}

void Model::load_weights(const std::string& path) {
  io::TensorFile f = io::load_tensors(path);
  auto meta = [&](const char* key) -> nlohmann::json {
    auto it = f.metadata.find(key);
    if (it == f.metadata.end()) fail<ValueError>(path, " is not a Cortex model file: no '", key, "' in its metadata");
    return io::parse_json<nlohmann::json>(it->second, 16, path + ": metadata '" + key + "'");
  };
  if (!known_format(f.metadata["format"]))
    fail<ValueError>(path, " is not a Cortex model file (format '", f.metadata["format"], "', expected '", kFormat,
                     "' or '", kFormatByPosition, "')");
  nn::NamedTensors weights, opt_state;
  for (auto& [n, t] : f.tensors) {
    if (n.rfind("model.", 0) == 0) weights.emplace_back(n.substr(6), t);
    else if (n.rfind("optimizer.", 0) == 0) opt_state.emplace_back(n.substr(10), t);
  }
  ensure_built("load_weights");
  // Nothing changes until everything is checked: a file that fails to load leaves the
  // model as it was. The training state first:
  if (auto* seq = dynamic_cast<nn::Sequential*>(net_.get()); seq && f.metadata["format"] == kFormatByPosition)
    weights = seq->named_by_position(weights);
  const nlohmann::json state = meta("training_state");
  const auto field = [&](const char* key) -> const nlohmann::json& {
    if (!state.is_object() || !state.contains(key) || !state.at(key).is_number_unsigned())
      fail<ValueError>(path, ": metadata 'training_state' expects a non-negative integer '", key, "', got ",
                       state.is_object() && state.contains(key) ? state.at(key).dump() : std::string("none"));
    return state.at(key);
  };
  const std::uint64_t epoch = field("epoch").get<std::uint64_t>();
  if (epoch > static_cast<std::uint64_t>(std::numeric_limits<int>::max()))
    fail<ValueError>(path, ": metadata 'training_state' has epoch ", epoch, ", past what an int counts");
  const std::uint64_t seed = field("seed").get<std::uint64_t>(), offset = field("offset").get<std::uint64_t>();
  // Each part checks all of its input before it writes any: the weights first, then the
  // optimizer's state (whose slots are shaped like the weights), then the weights are copied.
  net_->check_state_dict(weights);
  if (optimizer_ && !opt_state.empty()) {
    if (optimizer_->params().empty()) optimizer_->set_params(net_->parameters());
    optimizer_->load_state(opt_state);
  }
  net_->load_state_dict(weights);
  epoch_ = static_cast<int>(epoch);
  gen_->set_state(seed, offset);
}

std::shared_ptr<nn::Sequential> sequential_from_json(const std::string& json) {
  auto net = std::make_shared<nn::Sequential>();
  try {
    nlohmann::json arch = io::parse_json<nlohmann::json>(json, 16, "the architecture description");
    if (arch.contains("input_shape")) net->set_input_shape(arch["input_shape"].get<Shape>());
    for (const auto& l : arch.at("layers")) {
      auto layer = nn::layer_from_config(l.at("type"), l.contains("config") ? l.at("config").dump() : "{}");
      if (l.contains("name")) layer->set_name(l.at("name").get<std::string>());  // the weights are named by it
      net->add(layer);
    }
  } catch (const nlohmann::json::exception& e) {
    fail<ValueError>("bad architecture description (", e.what(), ")");
  }
  if (net->layers().empty()) fail<ValueError>("the architecture description has no layers");
  return net;
}

std::unique_ptr<Model> load_model(const std::string& path) {
  io::TensorFile f = io::load_tensors(path);
  if (!known_format(f.metadata["format"]))
    fail<ValueError>(path, " is not a Cortex model file (format '", f.metadata["format"], "', expected '", kFormat,
                     "' or '", kFormatByPosition, "')");
  std::unique_ptr<Model> model;
  try {
    const std::string& arch = f.metadata.at("architecture");
    const bool functional =
        io::parse_json<nlohmann::json>(arch, 16, path + ": metadata 'architecture'").value("class_name", "") == "Functional";
    if (functional)
      model = std::make_unique<Model>(nn::Functional::from_graph_json(arch));
    else
      model = std::make_unique<Model>(sequential_from_json(arch));
    nlohmann::json compile = io::parse_json<nlohmann::json>(f.metadata.at("compile"), 16, path + ": metadata 'compile'");
    CompileOptions co{.loss = compile.at("loss"), .metrics = compile.at("metrics").get<std::vector<std::string>>()};
    if (compile.contains("losses")) co.losses = compile.at("losses").get<std::vector<std::string>>();
    if (compile.contains("loss_weights")) co.loss_weights = compile.at("loss_weights").get<std::vector<double>>();
    if (compile.contains("optimizer"))
      co.optimizer = std::shared_ptr<optim::Optimizer>(optim::optimizer_from_config(compile["optimizer"].dump()));
    model->compile(co);
    if (auto it = f.metadata.find("user_metadata"); it != f.metadata.end()) {
      const auto user = io::parse_json<nlohmann::json>(it->second, 4, path + ": metadata 'user_metadata'");
      if (!user.is_object())
        fail<ValueError>(path, ": metadata 'user_metadata' expects an object of strings, got ", user.type_name());
      for (const auto& [k, v] : user.items()) {
        if (!v.is_string())
          fail<ValueError>(path, ": metadata 'user_metadata' expects strings, got ", v.type_name(), " for '", k, "'");
        model->metadata()[k] = v.get<std::string>();
      }
    }
  } catch (const nlohmann::json::exception& e) {
    fail<ValueError>(path, ": the model description in its metadata is corrupt (", e.what(), ")");
  } catch (const std::out_of_range&) {
    fail<ValueError>(path, ": the model description in its metadata is incomplete");
  }
  model->load_weights(path);
  return model;
}

}  // namespace cortex::train
