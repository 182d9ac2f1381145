// The layer graph of a Sequential or functional model, as DOT, drawn by Graphviz.
#include "cortex/viz/model_graph.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "cortex/autograd/grad_mode.h"
#include "cortex/io/atomic_file.h"
#include "cortex/nn/functional.h"
#include "cortex/nn/sequential.h"
#include "cortex/ops/creation.h"

extern char** environ;

namespace cortex::viz {
namespace {

using nn::shape_text;

std::int64_t param_count(const nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& [name, t] : m.named_parameters()) n += t.numel();
  for (const auto& [name, t] : m.named_buffers()) n += t.numel();
  return n;
}

// A shared layer called on different shapes shows "multiple", as Keras's plot does.
void merge_shape(std::string& into, const std::string& s) {
  if (into.empty()) into = s;
  else if (into != s) into = "multiple";
}

ModelGraph sequential_graph(nn::Sequential& seq) {
  if (!seq.input_shape())
    fail<ValueError>("drawing a Sequential needs its input shape: start it with Input({...})");
  ModelGraph g;
  const Shape in = *seq.input_shape();
  g.boxes.push_back({"input", "InputLayer", shape_text(in), shape_text(in), 0});
  NoGradGuard no_grad;
  const bool was_training = seq.is_training();
  seq.eval();
  Shape probe{1};
  probe.insert(probe.end(), in.begin(), in.end());
  if (!seq.built()) seq.build(probe);
  Tensor x = zeros(probe, DType::f32, seq.device());
  for (const auto& layer : seq.layers()) {
    const Shape before(x.shape().begin() + 1, x.shape().end());
    x = (*layer)(x);
    const Shape after(x.shape().begin() + 1, x.shape().end());
    g.boxes.push_back({layer->name(), layer->type(), shape_text(before), shape_text(after), param_count(*layer)});
    g.edges.emplace_back(static_cast<int>(g.boxes.size()) - 2, static_cast<int>(g.boxes.size()) - 1);
  }
  seq.reset_states();  // the probe's states are nobody's
  seq.train(was_training);
  return g;
}

ModelGraph functional_graph(nn::Functional& f) {
  if (!f.built()) f.build({});  // the weights exist to be counted
  ModelGraph g;
  std::map<const void*, int> box_of;  // a layer (or an Input's node) -> its box
  for (const auto& node : f.nodes()) {
    const void* key = node->layer ? static_cast<const void*>(node->layer.get()) : static_cast<const void*>(node.get());
    auto [it, fresh] = box_of.emplace(key, static_cast<int>(g.boxes.size()));
    if (fresh) {
      if (node->layer) g.boxes.push_back({node->layer->name(), node->layer->type(), "", "", param_count(*node->layer)});
      else g.boxes.push_back({node->input_name, "InputLayer", "", "", 0});
    }
    LayerBox& box = g.boxes[static_cast<std::size_t>(it->second)];
    std::string in, out;
    for (const auto& s : node->inputs) in += (in.empty() ? "" : ", ") + shape_text(s.shape());
    for (const auto& s : node->shapes) out += (out.empty() ? "" : ", ") + shape_text(s);
    if (node->inputs.size() > 1) in = "[" + in + "]";
    if (node->shapes.size() > 1) out = "[" + out + "]";
    merge_shape(box.input_shape, node->layer ? in : out);
    merge_shape(box.output_shape, out);
    for (const auto& s : node->inputs) {
      const auto& from = s.node();
      const void* from_key = from->layer ? static_cast<const void*>(from->layer.get()) : static_cast<const void*>(from.get());
      const std::pair<int, int> e{box_of.at(from_key), it->second};
      if (std::find(g.edges.begin(), g.edges.end(), e) == g.edges.end()) g.edges.push_back(e);
    }
  }
  return g;
}

// Text inside a DOT record label: its special characters escaped.
std::string record_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::strchr("{}|<>\"\\", c) != nullptr) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

ModelGraph model_graph(nn::Module& network) {
  if (auto* seq = dynamic_cast<nn::Sequential*>(&network)) return sequential_graph(*seq);
  if (auto* f = dynamic_cast<nn::Functional*>(&network)) return functional_graph(*f);
  fail<ValueError>("drawing a model needs a Sequential or functional model (their graph is known); this one is a ",
                   network.type());
}

std::string model_dot(const ModelGraph& graph, const std::string& title) {
  std::ostringstream out;
  out << "digraph model {\n"
      << "  graph [rankdir=TB, label=\"" << record_text(title) << "\", labelloc=t, fontname=\"Helvetica\"];\n"
      << "  node [shape=record, fontname=\"Helvetica\", fontsize=11];\n";
  for (std::size_t i = 0; i < graph.boxes.size(); ++i) {
    const LayerBox& b = graph.boxes[i];
    out << "  n" << i << " [label=\"{" << record_text(b.name + ": " + b.type)
        << "|{input:|output:}|{" << record_text(b.input_shape) << "|" << record_text(b.output_shape) << "}";
    if (b.params > 0) out << "|params: " << b.params;
    out << "}\"];\n";
  }
  for (const auto& [from, to] : graph.edges) out << "  n" << from << " -> n" << to << ";\n";
  out << "}\n";
  return out.str();
}

void render_dot(const std::string& dot_path, const std::string& output, const std::string& program) {
  const std::string ext = std::filesystem::path(output).extension().string();
  if (ext != ".svg" && ext != ".png")
    fail<ValueError>("a model graph is drawn as .svg or .png, got '", output, "'");
  // dot writes a temporary file renamed over `output`, or a character device (/dev/null) itself.
  const bool rename = io::renamed_into_place(output);
  const std::string tmp = rename ? output + ".tmp" + std::to_string(::getpid()) : output;
  const std::string format = "-T" + ext.substr(1);
  std::vector<std::string> args{program, format, "-o", tmp, dot_path};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, program.c_str(), nullptr, nullptr, argv.data(), environ);
  if (rc == ENOENT)
    fail<Error>("drawing the model graph needs Graphviz's `", program,
                "`, which was not found (apt-get install graphviz, or scripts/install-deps.sh); the DOT file ",
                dot_path, " is written: any Graphviz draws it");
  if (rc != 0) fail<Error>("cannot start Graphviz's `", program, "`: ", std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail<Error>("waiting for Graphviz's `", program, "` failed: ", std::strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::error_code ignored;
    if (rename) std::filesystem::remove(tmp, ignored);
    fail<Error>("Graphviz's `", program, "` failed on ", dot_path,
                WIFEXITED(status) ? cortex::detail::cat(" (exit status ", WEXITSTATUS(status), ")")
                                  : std::string(" (killed by a signal)"));
  }
  if (!rename) return;
  std::error_code ec;
  std::filesystem::rename(tmp, output, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    fail<Error>("cannot write ", output, ": ", ec.message());
  }
}

}  // namespace cortex::viz
