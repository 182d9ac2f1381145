// The `cortex` command: train, evaluate, predict, summarise and look inside models.
//
//   cortex train                      # the lecture CNN on Fashion-MNIST, 12 epochs -> model.cortex
//   cortex train --device cuda        # the same on the first GPU
//   cortex evaluate model.cortex      # Test loss / Test accuracy
//   cortex predict model.cortex shirt.png
//   cortex summary --model lecture-cnn
//   cortex visualize filters model.cortex -o filters.png
//   cortex train --report-dir runs/lecture && cortex report runs/lecture
//   cortex experiment shift-invariance -o shift.svg
//
// Each family of subcommands lives in its own cli/<family>_commands.cpp. Exit
// status: 0 done, 1 an error while running (bad file, bad data), 2 a usage
// error (unknown command or option, bad value), 128 + N after signal N ended
// training (130: Ctrl-C).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>

#include "args.h"
#include "common.h"
#include "cortex/core/threads.h"

using namespace cortex;
using namespace cortex::cli;

namespace {

constexpr int kUsageError = 2;

std::vector<std::string> names_of(const std::vector<CLI::App*>& subcommands) {
  std::vector<std::string> names;
  for (const auto* s : subcommands) names.push_back(s->get_name());
  return names;
}

// The options a subcommand takes, by their long names ("--epochs").
std::vector<std::string> option_names(const CLI::App& sub) {
  std::vector<std::string> names;
  for (const CLI::Option* o : sub.get_options())
    for (const auto& n : o->get_lnames()) names.push_back("--" + n);
  return names;
}

// "cortex seq addition": the command as typed.
std::string command_path(const CLI::App& sub) {
  std::string path = sub.get_name();
  for (const CLI::App* p = sub.get_parent(); p != nullptr; p = p->get_parent()) path = p->get_name() + " " + path;
  return path;
}

// A usage error: what was wrong, then where to look.
int usage_error(const std::string& where, const std::string& message) {
  std::fprintf(stderr, "%s: %s\nRun '%s --help' for the options.\n", where.c_str(), message.c_str(), where.c_str());
  return kUsageError;
}

// CLI11 says "--epochs: must be >= 1, got -1"; we say "--epochs must be >= 1, got -1".
std::string plain(const CLI::Error& e) {
  std::string m = e.what();
  const auto colon = m.find(": ");
  if (colon != std::string::npos && m.find(' ') > colon) m.erase(colon, 1);
  return m;
}

// Arguments a subcommand did not take: an unknown option gets its nearest
// spelling, anything else is named as unexpected.
int unexpected(const CLI::App& sub, const std::vector<std::string>& extras) {
  const std::string where = command_path(sub);
  const std::string& first = extras.front();
  if (first.rfind("-", 0) == 0) {
    const std::string name = first.substr(0, first.find('='));
    const std::string near = closest(name, option_names(sub));
    return usage_error(where, "unknown option '" + name + "'" + (near.empty() ? "" : "; did you mean '" + near + "'?"));
  }
  return usage_error(where, "unexpected argument '" + first + "'");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Cortex: train, evaluate and inspect neural networks"};
  app.name("cortex");
  app.require_subcommand(1, 1);
  app.footer("Run 'cortex COMMAND --help' for a command's options; 'cortex train' alone trains the lecture CNN.");
  Runs runs;
  add_model_commands(app, runs);
  add_inspect_commands(app, runs);
  add_seq_commands(app, runs);
  add_lm_commands(app, runs);
  for (auto* sub : app.get_subcommands({})) sub->allow_extras();

  const std::vector<std::string> commands = names_of(app.get_subcommands({}));
  if (argc < 2) {  // no command: say what there is rather than start a 12-epoch run
    std::printf("%s", app.help().c_str());
    return 0;
  }
  const std::string first = argv[1];
  // Long runs: choose how OpenMP threads wait on a shared machine (may restart the program).
  if (first == "train" || first == "evaluate" || first == "experiment" || first == "seq" || first == "lm")
    adapt_openmp_wait(argv);
  const bool help = first == "-h" || first == "--help";
  if (!help && std::find(commands.begin(), commands.end(), first) == commands.end()) {
    const std::string near = first[0] == '-' ? "" : closest(first, commands);
    std::string list;
    for (const auto& c : commands) list += (list.empty() ? "" : ", ") + c;
    std::fprintf(stderr, "cortex: %s '%s'%s\nThe commands are %s. Run 'cortex --help' for more.\n",
                 first[0] == '-' ? "unknown option" : "unknown command", first.c_str(),
                 near.empty() ? "" : ("; did you mean '" + near + "'?").c_str(), list.c_str());
    return kUsageError;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(help ? "cortex" : "cortex " + first, plain(e));
  }

  for (const auto& [sub, run] : runs) {
    if (!sub->parsed()) continue;
    if (!sub->remaining().empty()) return unexpected(*sub, sub->remaining());
    try {
      return run();
    } catch (const cortex::Error& e) {
      std::fprintf(stderr, "%s: %s\n", command_path(*sub).c_str(), e.what());
      return 1;
    } catch (const std::exception& e) {  // from a library below us (a filesystem error, say)
      std::fprintf(stderr, "%s: %s\n", command_path(*sub).c_str(), e.what());
      return 1;
    }
  }
  return usage_error("cortex", "no command given");
}
